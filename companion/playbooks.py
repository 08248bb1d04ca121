"""Playbooks: the step checklists for difficult calls, as TOML data.

Bundled in `resources/playbooks/`; a user adds their own in `<user data dir>/playbooks/`
(a user playbook with the same id replaces the bundled one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from companion.config import read_toml
from companion.errors import ConfigError
from companion.paths import user_data_dir
from companion.resources import resource_path


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    guidance: str
    tips: tuple[str, ...]
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Playbook:
    id: str
    name: str
    description: str
    steps: tuple[Step, ...]
    source: str

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


def load_playbook(path: Path) -> Playbook:
    data = read_toml(path, "Playbook")
    try:
        steps = tuple(
            Step(
                id=str(raw["id"]), title=str(raw["title"]), guidance=str(raw.get("guidance", "")),
                tips=tuple(str(t) for t in raw.get("tips", [])),
                cues=tuple(normalise(str(c)) for c in raw.get("cues", []) if normalise(str(c))),
            )
            for raw in data["step"]
        )
        playbook = Playbook(id=str(data["id"]), name=str(data["name"]), description=str(data.get("description", "")),
                            steps=steps, source=str(path))
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"Playbook {path.name} is missing {exc} (each needs id, name and steps with id and title).") from None
    if not steps:
        raise ConfigError(f"Playbook {path.name} has no steps.")
    if len({s.id for s in steps}) != len(steps):
        raise ConfigError(f"Playbook {path.name} has two steps with the same id.")
    return playbook


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
