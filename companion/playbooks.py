"""Playbooks: the step checklists for difficult calls, as TOML data.

Bundled in `resources/playbooks/`; a user adds their own in `<user data dir>/playbooks/`
(a user playbook with the same id replaces the bundled one).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from companion.config import read_toml
from companion.errors import ConfigError
from companion.paths import user_data_dir
from companion.resources import resource_path

FLOWS = {"opening": "the call's opening state: done as the call begins",
         "after-call": "done after the call, in its summary (the root-cause note)"}


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    guidance: str
    tips: tuple[str, ...]
    cues: tuple[str, ...]                 # phrases that show the step (companion.checklist matches their meaning)
    near_cues: tuple[str, ...] = ()       # weaker: they show it only when the call is at it, or just before or past it
    unless: tuple[str, ...] = ()          # words that rule the step out of a line ("sorry" for "Stop saying sorry")
    flow: str = ""                        # "opening" or "after-call": a step no phrase shows (FLOWS)


@dataclass(frozen=True)
class Playbook:
    id: str
    name: str
    description: str
    steps: tuple[Step, ...]
    source: str
    payment_cues: tuple[str, ...] = ()  # this playbook's own payment cues (pause for payment); none: [privacy]'s

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)


def normalise(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation gone, single spaces: how cues and speech are compared."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w' ]+", " ", text)
    return " ".join(text.split())


# What a playbook file may hold, and of what type; everything else is refused.
PLAYBOOK_KEYS = {"id": "text", "name": "text", "description": "optional text", "step": "steps",
                 "payment_cues": "list of text"}
STEP_KEYS = {"id": "text", "title": "text", "guidance": "optional text", "tips": "list of text", "cues": "list of text",
             "near_cues": "list of text", "unless": "list of text", "flow": "optional text"}


def _kind_of(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if type(value) is list:
        return "a list"
    if type(value) is dict:
        return "a table"
    return type(value).__name__


def _read(table: Mapping[str, Any], kinds: dict[str, str], where: str) -> dict[str, Any]:
    """The fields of `table`, each checked against its kind; `where` names the file (and step)."""
    unknown = sorted(set(table) - set(kinds))
    if unknown:
        raise ConfigError(f"{where} has an unknown key {unknown[0]} (known: {', '.join(kinds)}).")
    values: dict[str, Any] = {}
    for key, kind in kinds.items():
        value = table.get(key)
        if value is None and kind in ("optional text", "list of text"):
            value = "" if kind == "optional text" else []
        if value is None:
            raise ConfigError(f"{where} is missing {key} (each needs id, name and steps with id and title).")
        if kind == "steps":
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise ConfigError(f"{where}: step must be a list of tables, each starting with [[step]].")
        elif kind == "list of text":
            if isinstance(value, str):
                example = json.dumps(value, ensure_ascii=False)
                raise ConfigError(f"{where}: {key} must be a list of text, such as {key} = [{example}], not one text.")
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: {key} must be a list of text, such as {key} = [\"one\", \"two\"].")
        elif not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be text in quotes (got {_kind_of(value)}).")
        elif kind == "text" and not value.strip():
            raise ConfigError(f"{where}: {key} must not be empty.")
        values[key] = value
    return values


def load_playbook(path: Path) -> Playbook:
    where = f"Playbook {path}"
    data = _read(read_toml(path, "Playbook"), PLAYBOOK_KEYS, where)
    steps = []
    for n, raw in enumerate(data["step"], 1):
        fields = _read(raw, STEP_KEYS, f"{where}, step {n}")
        if fields["flow"] and fields["flow"] not in FLOWS:
            raise ConfigError(f"{where}, step {n}: flow must be one of {', '.join(FLOWS)} (or left out), "
                              f"not {json.dumps(fields['flow'], ensure_ascii=False)}.")
        phrases = {key: tuple(normalise(c) for c in fields[key] if normalise(c)) for key in ("cues", "near_cues", "unless")}
        steps.append(Step(id=fields["id"], title=fields["title"], guidance=fields["guidance"], tips=tuple(fields["tips"]),
                          flow=fields["flow"], **phrases))
    if not steps:
        raise ConfigError(f"{where} has no steps.")
    if len({s.id for s in steps}) != len(steps):
        raise ConfigError(f"{where} has two steps with the same id.")
    return Playbook(id=data["id"], name=data["name"], description=data["description"], steps=tuple(steps), source=str(path),
                    payment_cues=tuple(c for c in data["payment_cues"] if c.strip()))


def user_playbooks_dir() -> Path:
    return user_data_dir() / "playbooks"


def all_playbooks() -> tuple[list[Playbook], list[str]]:
    """(playbooks, problems): bundled first, then the user's; a broken user file is reported, not fatal."""
    found: dict[str, Playbook] = {}
    problems: list[str] = []
    for folder in (resource_path("playbooks"), user_playbooks_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                playbook = load_playbook(path)
            except ConfigError as exc:
                problems.append(exc.message)
                continue
            found[playbook.id] = playbook
    return list(found.values()), problems


def find_playbook(playbook_id: Optional[str]) -> Playbook:
    playbooks, _ = all_playbooks()
    if not playbooks:
        raise ConfigError("No playbooks found.")
    if playbook_id is None:
        return playbooks[0]
    for playbook in playbooks:
        if playbook.id == playbook_id:
            return playbook
    raise ConfigError(f"No playbook '{playbook_id}' (have: {', '.join(p.id for p in playbooks)}).")
