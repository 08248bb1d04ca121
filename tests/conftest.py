from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window's tests run without a screen

from tests.installed import import_installed_app  # noqa: E402

import_installed_app()  # the tests exercise what `pip install .` shipped, not the checkout's copy

from companion.app.wiring import install as wire_the_app  # noqa: E402
from companion.config import load_config  # noqa: E402
from tests.callgen import rendered  # noqa: E402
from tests.synth_cache import cache_root  # noqa: E402

wire_the_app()  # as `companion.cli.main` does: a team call the tests close in-process is queued for its server

# --- markers, applied by the fixtures a test uses (see pyproject.toml for what each means) --------------
FIXTURE_MARKERS = {
    "make_call": ("synth", "slow"),
    "real_voices": ("synth", "slow"),
    "real_voice_cache": ("synth", "slow"),
    "pace_cache": ("synth", "slow"),
    "softphone": ("live", "slow"),
    "pg_server": ("postgres",),
    "qtbot": ("window",),
    "qapp": ("window",),
    "bundle": ("slow",),
    "ko_model": ("slow",),
    "shift_window": ("slow",),
}

# Session- and module-wide fixtures of a test module are built once per pytest-xdist worker that runs one
# of that module's tests: the tests that share such a fixture are sent to one worker (`--dist loadgroup`).
# These are as cheap on each worker as on one (their costly part is cached across workers, or they cost
# a few seconds), so the tests using them are spread. (The Korean Vosk model is not: 250 MB and 4 s of
# processor to load, and its tests would only compete for the same two cores.)
SPREAD_FIXTURES = {"config", "make_call", "analyze", "softphone", "pg_server", "pace_cache", "korean",
                   "clips", "analysed", "real_voices"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, markers in FIXTURE_MARKERS.items():
            if fixture in names:
                for marker in markers:
                    item.add_marker(marker)
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        module = item.module.__name__
        shared = [name for name, defs in info.name2fixturedefs.items()
                  if name not in SPREAD_FIXTURES and defs and defs[-1].scope in ("module", "session")
                  and getattr(defs[-1].func, "__module__", "") == module]
        if shared:
            item.add_marker(pytest.mark.xdist_group(module.rsplit(".", 1)[-1]))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist sends the collected ids to its scheduler
def pytest_collection_finish(session):
    """`--dist loadgroup` sends the tests whose ids end in `@<group>` to one worker. pytest-xdist 3.8 puts
    that suffix on `item._nodeid`, which pytest 9 no longer reads (it keeps the id in `item._id`), so
    there the groups would be silently ignored: put the suffix where this pytest reads it."""
    if not getattr(session.config.option, "loadgroup", False):  # set by pytest-xdist for --dist loadgroup
        return
    for item in session.items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        if names and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = type(item._id).parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers per core, at least 2 — much of the suite waits on real time (calls played
    through PulseAudio, servers starting, the event loop), not on the processor.
    PYTEST_XDIST_AUTO_NUM_WORKERS overrides."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


# --- shared fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def config():
    return load_config(use_user_default=False)


@pytest.fixture(scope="session")
def speech_tools():
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the synthetic calls need {', '.join(missing)} (bash .ci/run installs them)")


@pytest.fixture(scope="session")
def real_voice_cache() -> Path:
    """The real-voice calls' cache folder (tests/real_voices.py), with the meeting recordings fetched from the
    pyannote.audio sdist and unpacked by one xdist worker while the others wait; shared across runs."""
    from tests import real_voices as rv
    from tests.synth_cache import locked

    missing = [tool for tool in ("sox", "espeak-ng", "text2wave") if shutil.which(tool) is None]
    missing += [pkg for pkg in ("piper", rv.PIPER_VOICE) if importlib.util.find_spec(pkg) is None]
    if missing:
        pytest.fail(f"the real-voice calls need {', '.join(missing)} (pip install '.[test]'; bash .ci/run installs the rest)")
    cache = cache_root() / "real_voices"
    with locked(cache / "recordings.lock"):
        rv.recordings(cache)
    return cache


@pytest.fixture(scope="session")
def real_voices(real_voice_cache):
    """`real_voices(kind, customer, agent, line, shift_s=0.0, dither_seed=None)` renders a real-voice call
    (tests/real_voices.py): returns (wav, truth). Every module's calls go to one folder of the tests' cache, named by
    the renderer's own source (each file is also checked against its call's key by `rv.render`), so a call several
    modules or xdist workers use is mixed once, and analysed once per worker by `analyze`; tests read the files
    and write elsewhere."""
    from tests import real_voices as rv
    from tests.synth_cache import locked, source_digest

    out = real_voice_cache / f"calls-{source_digest('real_voices.py', 'pace_corpus.py', 'callgen.py')}"
    made = {}

    def make(kind: str, customer: str, agent: str, line: str, shift_s: float = 0.0, dither_seed=None):
        key = (kind, customer, agent, line, shift_s, dither_seed)
        if key not in made:
            call = {**rv.SCENARIOS, **rv.LONGER_SCENARIOS}[kind](customer, agent, line, real_voice_cache)
            with locked(out / f"{call.name}.lock"):
                made[key] = rv.render(call, out, real_voice_cache, shift_s=shift_s, dither_seed=dither_seed)
        return made[key]

    return make


@pytest.fixture(scope="session")
def make_call(speech_tools):
    """Render a scenario: returns (wav path, truth). Rendered once across runs and xdist workers
    (tests/synth_cache.py); the files are shared, so tests read them and write elsewhere."""
    made = {}

    def make(script):
        if script.name not in made:
            made[script.name] = rendered(script)
        return made[script.name]

    return make


@pytest.fixture(scope="session")
def pace_cache() -> Path:
    """The labelled pace corpus's cache folder (tests/pace_corpus.py), shared across runs and xdist workers."""
    return cache_root() / "pace_corpus"


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
def store_template(tmp_path_factory):
    """`template(name, build)`: a data folder made once per session by `build(folder)` (for example calls
    saved with `companion analyze --save`), copied into this test's own data folder, which it returns.
    Tests that read or change a store of saved calls start from a copy instead of saving them again."""
    made: dict[str, Path] = {}

    def template(name: str, build) -> Path:
        if name not in made:
            folder = tmp_path_factory.mktemp(f"template-{name}") / "data"
            folder.mkdir()
            build(folder)
            made[name] = folder
        target = Path(os.environ["COMPANION_DATA_DIR"])
        shutil.copytree(made[name], target, dirs_exist_ok=True)
        return target

    return template


@pytest.fixture(scope="session")
def softphone(tmp_path_factory):
    """A PulseAudio server of the test session's own (of this xdist worker's own), with sinks `agent_mic`
    and `softphone`."""
    from tests.softphone import start_pulse, stop_pulse

    try:
        env = start_pulse(tmp_path_factory.mktemp("pulse"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield env
    stop_pulse(env)
