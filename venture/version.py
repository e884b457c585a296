"""The application's version, from one place: ``[project] version`` in pyproject.toml.

The checkout's pyproject.toml is read first (it is the source of truth, and an installed copy's metadata can lag behind
it until the next ``pip install``); where there is no pyproject.toml beside the code, the installed distribution's
metadata; "unknown" when neither exists."""

import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@cache
def app_version():
    try:
        with PYPROJECT.open("rb") as file:
            return tomllib.load(file)["project"]["version"]
    except FileNotFoundError:
        pass
    try:
        return installed_version("venture")
    except PackageNotFoundError:
        return "unknown"


APP_VERSION = app_version()
