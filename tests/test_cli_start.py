"""The command line starts light: `companion --version` and `--help` end at the arguments, and `calls list`
reads the store and nothing else — where no call was ever saved, not even sqlite3, and no store is made to
say there are none; on a store, no argparse, logging, pathlib, typing or re (the start of a listing is the
interpreter's, the store's and little more), no numpy, no recorder, no team code. What each start imports
is read from the started process itself; speed is in bench/bench_startup.py."""

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


# what a listing never needs: the whole parser, the logging module, pathlib (urllib.parse, ipaddress), typing,
# re and enum, dataclasses, threading (its locks are _thread's); the analysis, the recorder, the team's code,
# the reports
HEAVY = {"argparse", "gettext", "locale", "companion.cli.commands", "logging", "logging.handlers", "socket", "traceback",
         "pathlib", "urllib.parse", "ipaddress", "typing", "re", "enum", "dataclasses", "unicodedata",
         "companion.textsafe", "numpy", "soundfile", "companion.store.recording", "companion.store.flac_repair",
         "companion.team.queueing", "companion.team.cli", "companion.reports.export", "json", "threading"}


def test_listing_where_no_call_was_ever_saved_makes_no_store_and_imports_no_sqlite(tmp_path):
    for args, said in ((["calls", "list"], "No saved calls yet.\n"), (["calls", "list", "--search", "refund"],
                       "No calls match.\n"), (["calls", "list", "--limit", "5", "--offset=10"], "No calls match.\n")):
        listed, modules = _started(args, tmp_path)
        assert listed.returncode == 0 and listed.stdout == said, listed.stderr
        assert not modules & (HEAVY | {"sqlite3", "_sqlite3", "companion.store.db"}), modules & HEAVY
    as_json, _ = _started(["calls", "list", "--json"], tmp_path)
    assert as_json.returncode == 0 and as_json.stdout == "[]\n"
    assert sorted(os.listdir(tmp_path / "data")) == ["logs"]   # the support log, and no store
    log = (tmp_path / "data" / "logs" / "companion.log").read_text(encoding="utf-8").splitlines()
    assert len(log) == 8 and log[0].endswith(f" INFO companion: started: calls (version {companion.__version__}, "
                                             f"Python {sys.version.split()[0]}, {sys.platform})")
    assert log[1].endswith(" INFO companion.cli: calls ended (exit 0)"), log
    wrong, _ = _started(["calls", "list", "--kind", "nope"], tmp_path)   # a bad filter is still said, store or none
    assert wrong.returncode == 2 and "--kind nope is not a kind of prompt" in wrong.stderr
    assert sorted(os.listdir(tmp_path / "data")) == ["logs"]


def test_listing_an_empty_store_imports_the_store_and_nothing_heavy(tmp_path):
    from companion.store.db import open_store

    db = open_store(tmp_path / "data" / "calls.sqlite3")
    db.close()
    for _ in range(2):  # the second start finds the store as the first one checked it
        listed, modules = _started(["calls", "list"], tmp_path)
        assert listed.returncode == 0 and listed.stdout == "No saved calls yet.\n", listed.stderr
        assert {"companion.store.db", "sqlite3"} <= modules
        assert not modules & HEAVY, modules & HEAVY


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
    assert (tmp_path / "xdg-data" / paths.APP_NAME / "logs" / "companion.log").is_file()  # where an installed app keeps it
    assert "platformdirs" not in run.stderr.rpartition("\nMODULES ")[2].split()


# `calls list` read without argparse: every form it takes is read as the whole parser reads it, and every other
# form is left to the parser (which explains it)
QUICK = [["calls", "list"], ["calls", "list", "--json"], ["calls", "list", "--search", "refund card", "--kind", "slow_down"],
         ["calls", "list", "--limit", "0", "--offset", "50", "--upset", "--interrupted"], ["calls", "list", "--search="],
         ["calls", "list", "--search=-x", "--limit=7"], ["calls", "list", "--search", ""], ["calls", "list", "--json", "--json"],
         ["calls", "list", "--limit", "5", "--limit", "6"], ["calls", "list", "--kind", "nope"]]
LEFT_TO_THE_PARSER = [["calls", "list", "--lim", "5"], ["calls", "list", "--limit", "-1"], ["calls", "list", "--limit=-1"],
                      ["calls", "list", "--limit", "x"], ["calls", "list", "--search", "-x"], ["calls", "list", "--json=1"],
                      ["calls", "list", "--search"], ["calls", "list", "-h"], ["calls", "list", "--"], ["calls", "list", "x"],
                      ["calls", "list", "--search", "a b", "--bogus"], ["calls", "show", "1"], ["calls"], ["call", "list"],
                      ["--model", "none", "calls", "list"], ["calls", "list", "--search", "-x y"]]


def test_listing_s_arguments_are_read_as_the_whole_parser_reads_them():
    from companion.app.calls_cli import LIST_OPTIONS, quick_list
    from companion.cli.commands import build_parser

    for argv in QUICK:
        quick = quick_list(argv)
        assert quick is not None, argv
        assert vars(quick) == vars(build_parser(argv, every=False).parse_args(argv)), argv
    for argv in LEFT_TO_THE_PARSER:
        assert quick_list(argv) is None, argv
    listing = build_parser(["calls", "list"], every=False)._subparsers._group_actions[0].choices["calls"]  # type: ignore[union-attr]
    options = {o for a in listing._subparsers._group_actions[0].choices["list"]._actions for o in a.option_strings}
    assert options == {"-h", "--help"} | {option for option, *_ in LIST_OPTIONS}   # no option the quick reading misses


def test_a_mistake_in_a_listing_s_arguments_is_explained_by_the_parser(tmp_path):
    for argv, said in ((["calls", "list", "--limit", "-1"], "'-1' is not a whole number of calls"),
                       (["calls", "list", "--search"], "argument --search: expected one argument"),
                       (["calls", "list", "--json=1"], "argument --json: ignored explicit argument '1'")):
        run, _ = _started(argv, tmp_path)
        assert run.returncode == 2 and said in run.stderr, run.stderr


def test_the_support_log_s_own_lines_read_as_the_logging_module_writes_them(tmp_path, monkeypatch):
    """The command line writes its lines without `logging`; a line through `logging` and one through `note`
    are the same, failures and their scrubbed traces included."""
    import re

    from companion import logs

    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    logs.uninstall()
    try:
        logs.install("test")
        log = logging.getLogger("companion.cli")
        for how in ("logging", "note"):
            try:
                raise OSError(28, f"No space left on '{tmp_path}/Jane Doe.wav' 4111 1111")
            except OSError as exc:
                if how == "logging":
                    log.exception("%s failed with an internal error", "import")
                    log.warning("%s ended: %s (exit %d)", "import", "StoreError", 2)
                    log.info("%s ended (exit %d)", "calls", 130)
                else:
                    logs.note("companion.cli", logs.ERROR, "%s failed with an internal error", "import", error=exc)
                    logs.note("companion.cli", logs.WARNING, "%s ended: %s (exit %d)", "import", "StoreError", 2)
                    logs.note("companion.cli", logs.INFO, "%s ended (exit %d)", "calls", 130)
        logs.note("companion.cli", logs.DEBUG, "below the level: not written")
    finally:
        logs.uninstall()
    text = re.sub(r"^\S+ ", "T ", logs.log_file().read_text(encoding="utf-8"), flags=re.M)   # the times differ
    text = re.sub(r", line \d+, in test_", ", line N, in test_", text)                    # (so do the lines raising)
    lines = text.splitlines()
    assert lines[0].startswith("T INFO companion: started: test (version ")
    through_logging, through_note = lines[1:len(lines) // 2 + 1], lines[len(lines) // 2 + 1:]
    assert through_logging == through_note and len(through_note) == 5, lines
    assert through_note[0] == "T ERROR companion.cli: import failed with an internal error [OSError errno 28]"
    assert through_note[-1] == "T INFO companion.cli: calls ended (exit #)"
    assert "Jane" not in text and "4111" not in text and "below the level" not in text


def test_the_scrub_s_quick_look_changes_nothing_the_patterns_would_change(monkeypatch):
    import random

    from companion import logs

    pieces = ["a", "7", "٣", "42", " ", "'", '"', "@", "x.y", "-", "/", ".", ",", "é", "name", "\n"]
    texts = ["".join(random.Random(n).choices(pieces, k=n % 12)) for n in range(3000)]
    quick = [logs.scrub(t) for t in texts]
    monkeypatch.setattr(logs, "_plain", lambda text: False)   # every text through the patterns
    assert quick == [logs.scrub(t) for t in texts]


def test_the_users_folders_as_text_are_what_pathlib_makes_of_them(monkeypatch):
    import random

    from companion import paths

    pieces = ["/", "//", ".", "..", "a", "b c", "~", "x.y", ""]
    for n in range(3000):
        text = "".join(random.Random(n).choices(pieces, k=n % 8))
        assert paths.pure(text) == str(Path(text)), text
        assert paths.joined(paths.pure(text), "calls.sqlite3") == str(Path(text) / "calls.sqlite3"), text
        monkeypatch.setenv("COMPANION_DATA_DIR", text)
        if text:
            assert paths.user_data_text() == str(paths.user_data_dir()) == str(Path(text)), text
    monkeypatch.setenv("HOME", "/home//someone/")
    assert paths.home_text() == str(Path.home()) == "/home/someone"
