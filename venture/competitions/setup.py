"""The parts of a round's set-up that higher apps own.

A round is set up in steps: its settings, service categories, budget rules and tranche plan belong to this app; the
rubric belongs to ``judging`` and the mid-term and final evaluation rubrics to ``venture.supervision``. Those apps
import this one, never the other way round, so they tell the round what it must know about their part by
registering a ``SetupPart`` here from their ``AppConfig.ready()``:

- ``on_create(competition)``: fill the part of a new round (inside ``create_competition``'s transaction) and return
  what the creation's audit event records about it;
- ``on_copy(source, competition)``: fill the part of a round made from an earlier one (``copy_competition``) with a
  copy of the source's; returns what the copy's audit event records about it. A part without it is filled as new;
- ``opening_problems(competition)``: what is missing before applicants may see the call;
- ``settings_warnings(competition, values)``: advice on the round settings that does not block saving.

Parts run in ``order`` (the order of the set-up steps). This module imports no model, so an ``apps.py`` may import it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

_PARTS: list["SetupPart"] = []


@dataclass(frozen=True)
class SetupPart:
    name: str
    order: int
    on_create: Callable[[Any], dict] | None = None
    on_copy: Callable[[Any, Any], dict] | None = None
    opening_problems: Callable[[Any], list] | None = None
    settings_warnings: Callable[[Any, dict], list] | None = None


def register(part):
    if any(p.name == part.name for p in _PARTS):
        raise ValueError(f"Round set-up part {part.name!r} is registered twice")
    _PARTS.append(part)
    _PARTS.sort(key=lambda p: p.order)
    return part


def parts():
    return list(_PARTS)


def on_create(competition):
    """Fill every registered part of a new round; the audit entries they return, merged."""
    entries = {}
    for part in _PARTS:
        if part.on_create is not None:
            entries.update(part.on_create(competition))
    return entries


def on_copy(source, competition):
    """Fill every registered part of a round copied from ``source``: a copy of the source's part where the part can
    copy, else as for a new round; the audit entries they return, merged."""
    entries = {}
    for part in _PARTS:
        if part.on_copy is not None:
            entries.update(part.on_copy(source, competition))
        elif part.on_create is not None:
            entries.update(part.on_create(competition))
    return entries


def opening_problems(competition):
    return [problem for part in _PARTS if part.opening_problems for problem in part.opening_problems(competition)]


def settings_warnings(competition, values):
    return [
        warning for part in _PARTS if part.settings_warnings for warning in part.settings_warnings(competition, values)
    ]


def load(app_config, module):
    """Import ``<app>.<module>``, which registers the app's set-up part; called from the app's ``AppConfig.ready()``."""
    import_module(f"{app_config.name}.{module}")
