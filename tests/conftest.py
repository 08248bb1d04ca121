from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window's tests run without a screen

from tests.installed import import_installed_app  # noqa: E402

import_installed_app()  # the tests exercise what `pip install .` shipped, not the checkout's copy

from companion.config import load_config  # noqa: E402
from tests.callgen import render  # noqa: E402


@pytest.fixture(scope="session")
def config():
    return load_config(use_user_default=False)


@pytest.fixture(scope="session")
def speech_tools():
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the synthetic calls need {', '.join(missing)} (bash .ci/run installs them)")


@pytest.fixture(scope="session")
def call_dir(tmp_path_factory, speech_tools) -> Path:
    return tmp_path_factory.mktemp("calls")


@pytest.fixture(scope="session")
def make_call(call_dir):
    """Render a scenario once per session: returns (wav path, truth)."""
    made = {}

    def make(script):
        if script.name not in made:
            made[script.name] = render(script, call_dir, call_dir / "cache")
        return made[script.name]

    return make


@pytest.fixture(scope="session")
def analyze(config):
    from companion.analysis import analyze_call
    from companion.audio.file_source import CallFileSpec

    done = {}

    def run(wav: Path, **spec):
        key = (str(wav), tuple(sorted(spec.items())))
        if key not in done:
            done[key] = analyze_call(CallFileSpec(wav, **spec), config)
        return done[key]

    return run


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path, monkeypatch):
    """Tests never read or write the real user's settings."""
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # commands the tests run start outside the checkout, as a user's would


@pytest.fixture(scope="session")
def softphone(tmp_path_factory):
    """A PulseAudio server of the test session's own, with sinks `agent_mic` and `softphone`."""
    from tests.softphone import start_pulse, stop_pulse

    try:
        env = start_pulse(tmp_path_factory.mktemp("pulse"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield env
    stop_pulse(env)
