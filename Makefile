# The two commands a newcomer needs:  make run  (serve the demo site)  and  make test  (run every test).
SHELL := /bin/bash
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
WORKERS ?= 2
# Task workers (manage.py db_worker processes sharing the database queue): two render the demo's final documents
# within a minute of start on a 2-CPU machine (bench/demo_documents.py); one is enough once they are stored.
TASK_WORKERS ?= 2
# The public address printed in the feedback QR codes: from HOST and PORT unless set (set it when serving behind a
# proxy, or when HOST is 0.0.0.0, which no phone can reach).
SITE_URL ?= http://$(HOST):$(PORT)
export HOST PORT WORKERS SITE_URL

.PHONY: print-site-url run dev test test-fast explore lint format messages sysdeps check-python clean-data help manual

help:
	@echo "make run    install what is missing, migrate, load the demo, serve on http://$(HOST):$(PORT) with a task worker"
	@echo "make test   the whole test suite (unit, web, browser)"
	@echo "make dev    like run, with Django's autoreloading development server and DEBUG on"
	@echo "make lint   ruff check, ruff format --check, mypy, makemigrations --check"
	@echo "make manual the user manual's screenshots (docs/manual/img) from a fresh demo"

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'

# Re-installs only when pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo ">> installing Python dependencies into $(VENV)"
	@$(PY) -m pip install --quiet --upgrade pip >/dev/null
	@$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# Bootstrap, Bootstrap Icons and htmx from the npm registry, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "!! npm is needed for the front-end assets: apt-get install -y npm"; exit 1; }
	@echo ">> installing front-end assets (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

sysdeps:
	@scripts/system-deps.sh

print-site-url:
	@echo $(SITE_URL)

setup: $(VENV)/.installed node_modules/.installed sysdeps

# The web server and the background-task worker together (Procfile, run by honcho: one command, one log, Ctrl-C stops
# both). The demo's final documents are queued for the worker before it starts.
run: setup
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py demo_data --quiet-if-present
	@$(PY) manage.py prepare_documents -v0
	@$(PY) manage.py collectstatic --noinput -v0
	@echo ">> serving on http://$(HOST):$(PORT)/ with a background worker  (Ctrl-C to stop)"
	@WORKERS=$(WORKERS) exec $(VENV)/bin/honcho start -f Procfile -c web=1,worker=$(TASK_WORKERS)

dev: setup
	@$(PY) manage.py migrate --noinput -v0
	@$(PY) manage.py demo_data --quiet-if-present
	@TASKS_BACKEND=immediate DEBUG=1 STATICFILES_STORAGE=django.contrib.staticfiles.storage.StaticFilesStorage $(PY) manage.py runserver $(HOST):$(PORT)

# Tests run in parallel, one worker per CPU (pytest-xdist); a module's tests stay on one worker, so module-scoped
# fixtures (the demo, a browser) are built once. XDIST=0 runs them in this process.
XDIST ?= auto
test: setup
	@scripts/system-deps.sh --browser
	@$(PY) -m pytest $(if $(filter 0,$(XDIST)),,-n $(XDIST) --dist loadscope) $(PYTEST_ARGS)

# Everything except the browser tests.
test-fast: $(VENV)/.installed
	@$(PY) -m pytest $(if $(filter 0,$(XDIST)),,-n $(XDIST) --dist loadscope) -m "not e2e" $(PYTEST_ARGS)

# Hunt for new bugs: the lifecycle state machine with fresh random examples (the gates above replay fixed ones).
explore: $(VENV)/.installed
	@HYPOTHESIS_PROFILE=explore $(PY) -m pytest -p no:cacheprovider tests/test_lifecycle_invariants.py $(PYTEST_ARGS)

lint: $(VENV)/.installed
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.installed
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

# Regenerate and compile the translation catalogues (needs GNU gettext; the compiled .mo files are committed).
messages: $(VENV)/.installed
	@$(PY) manage.py makemessages -l zh_Hans --no-obsolete -i ".venv/*" -i "node_modules/*" -i "data/*"
	@$(PY) manage.py compilemessages -l zh_Hans -i ".venv" -i "node_modules"

clean-data:
	rm -rf data

# The user manual's screenshots (docs/manual/img/): a fresh demo in a temporary database, served locally and driven
# through every documented step with headless chromium. MANUAL_ARGS="--only applicant-ledger" redoes one picture.
manual: $(VENV)/.installed
	@$(PY) scripts/manual_screenshots.py $(MANUAL_ARGS)
