"""The command line starts light: `companion --version` and `--help` end at the arguments, and `calls list` on
an empty store reads the store and nothing else (no numpy, no recorder, no team code, no log rotation's
sockets). What each start imports is read from the started process itself; speed is in bench/bench_startup.py."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import platformdirs  # (its folder: where the app's dependencies are installed)

import companion
from tests.installed import OUTSIDE

APP = str(Path(companion.__file__).resolve().parent.parent)  # the installed app (or the checkout, editable)
DEPENDENCIES = str(Path(platformdirs.__file__).resolve().parent.parent)
# runs the `companion` command's entry point, then says which modules the process had imported
PROBE = ("import sys\n"
         "from ui.launcher import main\n"
         "try:\n"
         "    code = main(sys.argv[1:])\n"
         "except SystemExit as done:\n"
         "    code = done.code\n"
         "sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)))\n"
         "raise SystemExit(code)\n")


def _started(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    # -S: no site-packages' start-up hooks (an editable install's import hook); the app and its dependencies on
    # the path by hand
    env = dict(os.environ, PYTHONPATH=os.pathsep.join((APP, DEPENDENCIES)), COMPANION_DATA_DIR=str(tmp_path / "data"),
               COMPANION_CONFIG_DIR=str(tmp_path / "config"))
    run = subprocess.run([sys.executable, "-S", "-c", PROBE, *args], env=env, cwd=OUTSIDE, capture_output=True,
                         text=True, timeout=60)
    said, _, modules = run.stderr.rpartition("\nMODULES ")
    run.stderr = said
    return run, set(modules.split())


def test_version_and_help_end_at_the_arguments(tmp_path):
    version, modules = _started(["--version"], tmp_path)
    assert version.returncode == 0 and version.stdout == f"companion {companion.__version__}\n"
    assert not modules & {"typing", "pathlib", "json.decoder", "shutil", "textwrap", "logging", "sqlite3",
                          "companion.team.cli", "companion.app.calls_cli", "companion.store"}, modules
    helped, modules = _started(["--help"], tmp_path)
    assert helped.returncode == 0
    for command in ("analyze", "models", "devices", "live", "settings", "calls", "team", "import", "replay"):
        assert f"    {command} " in helped.stdout  # every command listed with what it does
    assert not modules & {"sqlite3", "logging", "numpy", "companion.store"}, modules


def test_listing_an_empty_store_imports_the_store_and_nothing_heavy(tmp_path):
    listed, modules = _started(["calls", "list"], tmp_path)
    assert listed.returncode == 0 and listed.stdout == "No saved calls yet.\n", listed.stderr
    assert "companion.store.db" in modules
    assert not modules & {"numpy", "soundfile", "companion.store.recording", "companion.team.queueing",
                          "companion.team.cli", "logging.handlers", "socket"}, modules


def test_a_command_named_after_options_gets_its_own_help_and_errors(tmp_path):
    helped, _ = _started(["--model", "none", "calls", "list", "--help"], tmp_path)
    assert helped.returncode == 0 and "--search TEXT" in helped.stdout
    wrong, _ = _started(["calls", "list", "--limit", "x"], tmp_path)
    assert wrong.returncode == 2 and "'x' is not a whole number of calls" in wrong.stderr
    unknown, _ = _started(["call"], tmp_path)
    assert unknown.returncode == 2 and "invalid choice: 'call'" in unknown.stderr and "'calls'" in unknown.stderr


def test_the_support_log_rolls_over_and_stays_owner_only(tmp_path, monkeypatch):
    from companion import logs

    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(logs, "MAX_BYTES", 4000)
    logs.install("test")
    try:
        log = logging.getLogger("companion.test")
        for n in range(400):
            log.info("step %d of the rolling test", n)
    finally:
        logs.uninstall()
    folder = tmp_path / "data" / "logs"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["companion.log", "companion.log.1", "companion.log.2", "companion.log.3"]
    for path in folder.iterdir():
        assert path.stat().st_size < 4000 and path.stat().st_mode & 0o777 == 0o600
    assert logs.log_file().read_text(encoding="utf-8").rstrip().endswith("step # of the rolling test")
    assert "step # of the rolling test" in (folder / "companion.log.3").read_text(encoding="utf-8")


def test_the_users_folders_are_where_platformdirs_puts_them_without_importing_it(monkeypatch, tmp_path):
    from companion import paths

    monkeypatch.delenv("COMPANION_DATA_DIR", raising=False)
    monkeypatch.delenv("COMPANION_CONFIG_DIR", raising=False)
    for xdg in ({}, {"XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path / "c")},
                {"XDG_DATA_HOME": "  ", "XDG_CONFIG_HOME": ""}):
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME"):
            if name in xdg:
                monkeypatch.setenv(name, xdg[name])
            else:
                monkeypatch.delenv(name, raising=False)
        assert paths.user_data_dir() == Path(platformdirs.user_data_dir(paths.APP_NAME, appauthor=False)), xdg
        assert paths.user_config_dir() == Path(platformdirs.user_config_dir(paths.APP_NAME, appauthor=False)), xdg
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_")}
    env.update(PYTHONPATH=os.pathsep.join((APP, DEPENDENCIES)), XDG_DATA_HOME=str(tmp_path / "xdg-data"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg-config"))
    run = subprocess.run([sys.executable, "-S", "-c", PROBE, "calls", "list"], env=env, cwd=OUTSIDE,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "No saved calls yet.\n", run.stderr
    assert (tmp_path / "xdg-data" / paths.APP_NAME).is_dir()   # the store made where an installed app keeps it
    assert "platformdirs" not in run.stderr.rpartition("\nMODULES ")[2].split()
