"""`companion --self-check`: is this installation healthy? Every module imports, resources and
playbooks load, a temporary store opens, the monitor runs on a second of the bundled audio, and the
speech model's status is reported. Exit 0 when healthy; otherwise the reasons, and exit 1."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, TextIO

import companion


def _modules() -> list[str]:
    names = ["companion"]
    for info in pkgutil.walk_packages(companion.__path__, "companion."):
        if info.name != "companion.__main__":  # importing it would run the command line again
            names.append(info.name)
    return sorted(set(names))


def run_checks(out: TextIO = sys.stdout, extra: Iterable[tuple[str, Callable[[], str]]] = ()) -> int:
    """`extra`: the front end's own checks (the window's, from `ui.launcher`): the core never imports it."""
    problems: list[str] = []

    def check(label: str, fn: Callable[[], str]) -> None:
        started = time.perf_counter()
        try:
            detail = fn()
            print(f"  ok    {label}: {detail} ({(time.perf_counter() - started) * 1000:.0f} ms)", file=out)
        except Exception as exc:  # noqa: BLE001 - every failure is a reason to report
            problems.append(f"{label}: {exc}")
            print(f"  FAIL  {label}: {exc}", file=out)

    def modules() -> str:
        names = _modules()
        for name in names:
            importlib.import_module(name)
        return f"{len(names)} modules"

    def resources() -> str:
        from companion.asr.catalog import load_catalog
        from companion.config import load_config
        from companion.errors import ConfigError
        from companion.playbooks import all_playbooks

        issues = []
        try:
            config = load_config()
        except ConfigError as exc:  # the user's coaching.toml: named here with the playbooks' problems
            issues.append(exc.message)
        playbooks, problems = all_playbooks()
        issues += problems
        if issues:
            raise RuntimeError("; ".join(issues))
        return f"coaching.toml, {len(load_catalog().entries)} catalog models, {len(playbooks)} playbooks " \
               f"({config.coach.slow_down.wpm_above:.0f} wpm limit)"

    def store() -> str:
        import os

        from companion.store.db import open_store
        from companion.store.queries import schema_version

        with tempfile.TemporaryDirectory() as folder:
            db = open_store(Path(folder) / "check.sqlite3")
            version = schema_version(db)
            db.close()
            os.listdir(folder)
        return f"schema version {version}"

    def monitor() -> str:
        from companion.audio.file_source import CallFileSpec, FileCallSource
        from companion.coach.rules import Coach
        from companion.config import load_config
        from companion.events import MetricsSnapshot
        from companion.monitor.call_monitor import CallMonitor
        from companion.resources import resource_path

        config = load_config(use_user_default=False)
        mon, coach = CallMonitor(config), Coach(config.coach)
        source = FileCallSource(CallFileSpec(resource_path("demo/demo_call.flac")), config.audio)
        frames = 0
        for block in source.blocks():
            for event in mon.process(block):
                if isinstance(event, MetricsSnapshot):   # (the one event with a pace)
                    coach.evaluate(event)
            frames += block.frames
            if frames * config.audio.frame_s >= 1.0:
                break
        source.close()
        if not mon.vad["agent"].speaking and not mon.ledger["agent"].total_speech_s:
            raise RuntimeError("no speech detected in the first second of the demo call")
        return f"{frames} frames, agent speech {mon.ledger['agent'].total_speech_s:.2f} s"

    def model() -> str:
        from companion.asr.discovery import find_model, no_model_note, passed_over, passed_over_note
        from companion.asr.engine import _vosk
        from companion.config import load_config
        from companion.errors import ConfigError

        _vosk()
        try:
            language = load_config().asr.language
        except ConfigError:  # already reported under resources
            language = load_config(use_user_default=False).asr.language
        found = find_model(None, language)
        if found is not None:
            return f"{found.name} ({found.source}: {found.path})"
        return "; ".join([no_model_note(language, "'companion models download'"),
                          *(passed_over_note(c, language) for c in passed_over(language))])

    def audio_devices() -> str:
        try:
            from companion.audio.devices import inventory

            inv = inventory()
            return f"{len(inv.devices)} inputs"
        except Exception as exc:  # noqa: BLE001 - live capture is optional for a healthy install
            return f"live capture unavailable: {exc}"

    print(f"Call Companion {companion.__version__} self-check", file=out)
    check("modules", modules)
    extra = list(extra)
    for label, fn in extra:
        check(label, fn)
    if not extra:
        print("  --    window: not checked (the command line alone; 'companion --self-check' checks it)", file=out)
    check("resources", resources)
    check("store", store)
    check("monitor", monitor)
    check("speech model", model)
    check("audio devices", audio_devices)
    if problems:
        print(f"Not healthy: {'; '.join(problems)}", file=out)
        return 1
    print("Healthy.", file=out)
    return 0
