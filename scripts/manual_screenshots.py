"""Screenshots of the user manual (``make manual``), from a fresh demo, written into docs/manual/img/<lang>/.

1. builds the demo (venture/demo/builder.py) and the manual's draft (venture/help/samples.py) in a temporary
   SQLite database, so nothing of a real installation is read or touched;
2. serves it with Django's server on a free local port (static files from the source folders);
3. drives Debian's chromium headless with Playwright (as tests/e2e does): for every step of every chapter in
   docs/manual/<lang>/<role>.md it opens the step's page as the step's demo user, in the chapter's language, frames
   the texts the step names and saves a PNG (1280 px wide, or a 390 px phone for ``device="phone"``), reduced to a
   palette and optimised.

    .venv/bin/python scripts/manual_screenshots.py [--only applicant-ledger,judge-sheet] [--keep]

The steps are the ones tests/venture/test_help.py checks, so a step that no longer exists fails there first.
Run from the project root. CHROMIUM=/path overrides the browser.
"""

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
LANGUAGE_CODES = {"zh_Hans": "zh-hans", "en": "en"}

# Frames the step's texts on the page: the smallest visible element whose own text is one of them, preferring links
# and buttons, so the reader sees where to click.
HIGHLIGHT = """
(texts) => {
  const clickable = 'a, button, input[type=submit], label, summary, th, h1, h2, h3, h4, h5, legend, .badge';
  const marked = [];
  for (const text of texts) {
    const candidates = [...document.querySelectorAll(clickable + ', p, span, li, td, div')].filter(
      (el) => el.offsetParent !== null && (el.innerText || el.value || '').trim().includes(text));
    candidates.sort((a, b) => (a.innerText || '').length - (b.innerText || '').length);
    const el = candidates.find((c) => c.matches(clickable)) || candidates[0];
    if (el) { el.style.outline = '3px solid #d63384'; el.style.outlineOffset = '2px'; marked.push(el); }
  }
  if (marked.length) {  // the first text named is where the step happens: bring it near the top of the picture
    window.scrollTo(0, Math.max(0, marked[0].getBoundingClientRect().top + window.scrollY - 120));
  }
  return marked.length;
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(env):
    """Migrate and load the demo into the temporary data folder (in a child process with that environment)."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', interactive=False, verbosity=0)\n"
        "from venture.demo import builder; from venture.help import samples\n"
        "builder.build(); samples.prepare_demo()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


def plan(env, only):
    """(shot, language, url, session cookie or "", texts, device) for every step, computed in a child process."""
    code = r"""
import django, json, sys; django.setup()
from django.test import Client
from venture.help import manual, samples
only = set(filter(None, sys.argv[1].split(",")))
sessions, rows = {}, []
for step in manual.all_steps():
    if only and step.shot not in only:
        continue
    if step.user and step.user not in sessions:
        client = Client(); client.force_login(samples.user_for(step.user))
        sessions[step.user] = client.cookies["sessionid"].value
    rows.append([step.shot, step.language, samples.page_url(step), sessions.get(step.user, ""), list(step.texts),
                 step.device])
print(json.dumps(rows))
"""
    out = subprocess.run(
        [sys.executable, "-c", code, ",".join(only)], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def optimise(png_bytes, path):
    from PIL import Image  # noqa: PLC0415 - Pillow is needed only here, not by the app

    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG", optimize=True)


def serve(env, port):
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/calls/", timeout=5)
            return server
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("The demo server did not start within 60 seconds.")


def shoot(rows, port):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency, for this script only

    base = f"http://127.0.0.1:{port}"
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        for shot, language, url, session, texts, device in rows:
            context = browser.new_context(
                viewport=PHONE if device == "phone" else DESKTOP,
                device_scale_factor=1,
                locale="zh-CN" if language == "zh_Hans" else "en-US",
            )
            cookies = [{"name": "django_language", "value": LANGUAGE_CODES[language], "url": base}]
            if session:
                cookies.append({"name": "sessionid", "value": session, "url": base})
            context.add_cookies(cookies)
            page = context.new_page()
            page.goto(base + url, wait_until="networkidle")
            found = page.evaluate(HIGHLIGHT, texts)
            page.wait_for_timeout(150)
            path = ROOT / "docs" / "manual" / "img" / language / f"{shot}.png"
            optimise(page.screenshot(), path)
            written.append(path)
            print(f"{path.relative_to(ROOT)}  ({found}/{len(texts)} texts framed)")
            context.close()
        browser.close()
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated shot names (default: every step)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and print it")
    args = parser.parse_args()
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise SystemExit(f"Chromium is needed at {CHROMIUM} (scripts/system-deps.sh --browser), or set CHROMIUM.")
    folder = Path(tempfile.mkdtemp(prefix="venture-manual-"))
    env = {
        **os.environ,
        "VENTURE_DATA_DIR": str(folder),
        "DJANGO_SETTINGS_MODULE": "venture.settings",
        "VENTURE_PROFILE": "local",
        "DEBUG": "1",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "TWO_FACTOR_ROLES": "",
    }
    env.pop("DATABASE_URL", None)  # always a fresh SQLite database in the temporary folder
    started = time.monotonic()
    server = None
    try:
        print(f">> building the demo in {folder}")
        build(env)
        rows = plan(env, set(filter(None, args.only.split(","))))
        port = free_port()
        print(f">> serving on 127.0.0.1:{port}; {len(rows)} screenshots")
        server = serve(env, port)
        shoot(rows, port)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if args.keep:
            print(f">> data kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f">> done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
