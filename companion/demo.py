"""The bundled demo call: its recording, its script, and whether the script is its transcript."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from companion.asr.languages import serves
from companion.asr.scripted import CallScript, load_script
from companion.resources import resource_path

DEMO_CALL = "demo/demo_call.flac"
DEMO_SCRIPT = "demo/demo_call.script.toml"
SCRIPT_LABEL = "Demo transcript (from the demo's script — a speech model transcribes real calls)"


def demo_recording() -> Path:
    return resource_path(DEMO_CALL)


def demo_script() -> CallScript:
    return load_script(resource_path(DEMO_SCRIPT))


def transcribed_by(model_language: Optional[str], script: CallScript) -> bool:
    """True when a model in `model_language` can transcribe the demo for real; else the script is shown."""
    return model_language is not None and serves(model_language, script.language)
