"""The `companion` command line's commands: each one's options (argparse) and what it runs.

companion.cli (the package) is the entry point: it reads `calls list` by itself when it can, and builds this
parser for everything else, so listing the calls imports neither argparse nor this module."""

from __future__ import annotations

import argparse
import os
import sys

from companion import __version__
from companion.cli import NO_WINDOW
from companion.errors import CompanionError
from companion.textsafe import shown

# Types for the checkers only: `typing`, `pathlib` and the rest are not imported when the command line
# starts (`companion --version` is over before they would be), only by the commands that use them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType
    from typing import Any, Callable, NoReturn, Optional, Protocol, Sequence

    from companion.asr.engine import LoadedModel
    from companion.audio.devices import InputDevice
    from companion.audio.file_source import CallFileSpec
    from companion.config import CoachingConfig

    SubParsers = argparse._SubParsersAction[Any]  # of Parser (below), passed on as ArgumentParser

    class FrontEnd(Protocol):
        """The window, for the commands that open one. The core never imports the window: the `companion`
        command (`ui.launcher`) hands its front end to `main`; `python -m companion` has none."""

        def open_window(self, demo: bool, model: Optional[str]) -> int: ...

        def open_replay(self, db: object, call_id: int) -> int: ...

        def checks(self) -> list[tuple[str, Callable[[], str]]]: ...


def _path(text: str) -> Path:
    """A file argument (pathlib imported only when a command takes one)."""
    from pathlib import Path

    return Path(text)


def _add_analyze(sub: SubParsers) -> None:
    p = sub.add_parser(
        "analyze",
        help="coach a recorded call: what the companion would have said, and when",
        description="Run a recorded call through the same pipeline as a live call, as fast as possible.",
    )
    p.add_argument("call", metavar="CALL", type=_path, help="the call recording (stereo: agent and customer channels)")
    p.add_argument("--customer", type=_path, metavar="CUSTOMER", help="the customer's side as its own file (CALL is then the agent's)")
    p.add_argument("--agent-channel", type=int, metavar="N", help="channel of the agent in CALL (default 0)")
    p.add_argument("--customer-channel", type=int, metavar="N", help="channel of the customer (default 1, or 0 with --customer)")
    p.add_argument("--model", metavar="DIR|none", help="Vosk model folder for transcription, or 'none' for acoustic coaching only")
    _add_language(p)
    p.add_argument("--coaching", type=_path, metavar="FILE", help="a coaching.toml overriding the default thresholds")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of a summary")
    p.add_argument("--save", action="store_true", help="keep the call in the history (nothing is stored otherwise)")
    p.add_argument("--again", action="store_true",
                   help="with --save: keep it even when the history has this recording already")
    p.set_defaults(func=_run_analyze)


def _add_language(p: argparse.ArgumentParser) -> None:
    p.add_argument("--language", metavar="CODE",
                   help="the call's language, e.g. en-us or ko (default: [asr] language in coaching.toml); "
                        "only a model in this language transcribes it")


def _language(args: argparse.Namespace, config: CoachingConfig) -> str:
    import re

    language = (getattr(args, "language", None) or config.asr.language).strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", language):
        raise CompanionError(f"--language {args.language!r} is not a language code such as en-us, de or ko.")
    return language


def _run_analyze(args: argparse.Namespace) -> int:
    from companion.analysis import analyze_call
    from companion.asr.discovery import no_model_note
    from companion.audio.file_source import CallFileSpec, FileCallSource
    from companion.config import load_config
    from companion.report import summary_text

    for flag, value in (("--agent-channel", args.agent_channel), ("--customer-channel", args.customer_channel)):
        if value is not None and value < 0:
            raise CompanionError(f"{flag} must be 0 or more, not {value}.")
    config = load_config(args.coaching)
    spec = CallFileSpec(
        path=args.call,
        customer_path=args.customer,
        agent_channel=args.agent_channel,
        customer_channel=args.customer_channel,
    )
    source = FileCallSource(spec, config.audio)  # bad input is reported before a model is loaded
    try:
        language = _language(args, config)
        model = _choose_model(args.model, language)
    except BaseException:
        source.close()
        raise
    shortfall = None
    earlier = None
    digest = _recording_identity(spec) if args.save else None
    if digest is not None and not args.again:
        earlier = _kept_before(digest)
        if earlier is not None:
            print(f"companion: {shown(spec.path)} is already in the history as call {earlier}; not saved again "
                  "(--again saves it once more).", file=sys.stderr)
    if args.save and earlier is None:
        from companion.app.keeping import analyze_and_keep

        kept = analyze_and_keep(source, config, "analyze", model=model, content_hash=digest)
        doc, shortfall = kept.doc, kept.shortfall
        if not shortfall:
            print(f"companion: saved as call {kept.call_id}.", file=sys.stderr)
    else:
        doc = analyze_call(source, config, model=model)
    for warning in source.warnings:  # a damaged or cut-short recording: said once, after the analysis
        print(f"companion: warning: {warning}", file=sys.stderr)
    if args.json:
        import json

        json.dump(doc, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        header = {**doc, "file": shown(doc["file"])}  # the file's name as typed: its escape sequences written out
        print(summary_text(header, None if model is not None or _off(args.model) else no_model_note(language, MODELS_HOW)))
    if shortfall:
        print(f"companion: {shortfall}", file=sys.stderr)
        return 1
    return 0


MODELS_HOW = "'companion models download'"


def _recording_identity(spec: CallFileSpec) -> Optional[str]:
    """What makes a recording the same call again: the file's SHA-256 (as `import` stores it); with a second
    file or chosen channels, a hash of those too. None when a file cannot be read (the analysis says why)."""
    import hashlib
    from pathlib import Path

    from companion.app.importer import content_hash

    try:
        digest = content_hash(Path(spec.path))
        if spec.customer_path is None and spec.agent_channel is None and spec.customer_channel is None:
            return digest
        customer = content_hash(Path(spec.customer_path)) if spec.customer_path is not None else ""
    except OSError:
        return None
    return hashlib.sha256(f"{digest}|{customer}|{spec.agent_channel}|{spec.customer_channel}".encode()).hexdigest()


def _kept_before(digest: str) -> Optional[int]:
    from companion.app.keeping import kept_before
    from companion.store.db import open_store

    try:
        db = open_store()
    except CompanionError:
        return None  # a store that cannot be opened: saving says why, once, after the analysis
    try:
        return kept_before(db, digest, lambda text: print(f"companion: {text}.", file=sys.stderr), "save", "saving")
    finally:
        db.close()


def _off(asked: Optional[str]) -> bool:
    return asked is not None and asked.strip().lower() == "none"


def _choose_model(asked: Optional[str], language: str) -> Optional[LoadedModel]:
    """The loaded model to transcribe with, or None for acoustic coaching; says which on stderr.
    Only a model in the call's language is used; others found are named as passed over."""
    from companion.asr.discovery import find_model, no_model_note, passed_over, passed_over_note
    from companion.asr.engine import load_model

    if _off(asked):
        return None
    candidate = find_model(asked, language)
    if candidate is None:
        for other in passed_over(language):
            print(f"companion: {passed_over_note(other, language)}.", file=sys.stderr)
        print(f"companion: {no_model_note(language, MODELS_HOW)}.", file=sys.stderr)
        return None
    loaded = load_model(candidate.path)
    print(f"companion: transcribing with {candidate.name}, from {candidate.path}; loaded in {loaded.load_s:.1f} s.",
          file=sys.stderr)
    return loaded


def _add_models(sub: SubParsers) -> None:
    p = sub.add_parser("models", help="list, download, locate or remove speech models",
                       description="Speech models for transcription (Vosk).")
    p.add_argument("--catalog", type=_path, metavar="FILE", help=argparse.SUPPRESS)
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    msub.add_parser("list", help="models in the catalog and models found on this machine")
    d = msub.add_parser("download", help="download and install a model (default: the small US English model)")
    d.add_argument("name", nargs="?", metavar="NAME")
    pth = msub.add_parser("path", help="where a model is (default: the one the companion would use)")
    pth.add_argument("name", nargs="?", metavar="NAME")
    r = msub.add_parser("remove", help="remove a downloaded model")
    r.add_argument("name", metavar="NAME")
    p.set_defaults(func=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from companion.asr import models_cli

    return models_cli.run(args)


def _add_devices(sub: SubParsers) -> None:
    p = sub.add_parser("devices", help="list the inputs that can capture the agent and the customer")
    p.set_defaults(func=_run_devices)


def _run_devices(args: argparse.Namespace) -> int:
    from companion.audio.devices import customer_source_guide, inventory

    inv = inventory()
    by_api: dict[str, list[InputDevice]] = {}
    for device in inv.devices:
        by_api.setdefault(device.hostapi, []).append(device)
    for api, devices in by_api.items():
        print(f"{api}:")
        for d in devices:
            roles = [role for role, dflt in (("agent", inv.default_agent), ("customer", inv.default_customer)) if dflt == d]
            tag = f"   <- default {' and '.join(roles)}" if roles else ""
            kind = "  (captures an output)" if d.captures_output else ""
            print(f"  {d.key:>24}  {d.channels:>2} ch  {d.rate:>6} Hz  {d.name}{kind}{tag}")
    agent = inv.default_agent.key if inv.default_agent else "none"
    customer = inv.default_customer.key if inv.default_customer else "none"
    print(f"Defaults: --agent-device {agent}  --customer-device {customer}")
    if inv.default_customer is None:
        print(customer_source_guide())
    return 0


def _add_settings(sub: SubParsers) -> None:
    p = sub.add_parser("settings", help="your settings files: where each is and whether it exists (--all: every setting)")
    p.add_argument("--all", action="store_true", help="every setting with its value now, its default and its file")
    p.add_argument("--json", action="store_true", help="print JSON, for scripts")
    p.set_defaults(func=_run_settings)


def _run_settings(args: argparse.Namespace) -> int:
    from companion import settings_cli

    return settings_cli.run(all_settings=args.all, as_json=args.json)


def _add_live(sub: SubParsers) -> None:
    p = sub.add_parser("live", help="coach a live call, headless: prompts printed as they happen",
                       description="Capture the agent's microphone and the softphone's sound, and coach live.")
    p.add_argument("--agent-device", metavar="X", help="the agent's microphone: a number or name from 'companion devices'")
    p.add_argument("--customer-device", metavar="Y", help="the softphone's sound, e.g. a monitor source")
    p.add_argument("--agent-channel", type=int, metavar="N", help="channel of the agent on its device (default 0)")
    p.add_argument("--customer-channel", type=int, metavar="N",
                   help="channel of the customer (default 0; 1 when both share one stereo device)")
    p.add_argument("--model", metavar="DIR|none", help="Vosk model folder, or 'none' for acoustic coaching only")
    _add_language(p)
    p.add_argument("--events-jsonl", metavar="PATH|-",
                   help="write every event as a JSON line ('-' for stdout); an existing file is started afresh")
    p.add_argument("--append", action="store_true", help="with --events-jsonl: add to the file instead of starting it afresh")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--coaching", type=_path, metavar="FILE", help="a coaching.toml overriding the default thresholds")
    p.set_defaults(func=_run_live)


def _run_live(args: argparse.Namespace) -> int:
    import signal
    import threading

    from companion.config import load_config
    from companion.live import choose_devices, offer_pause, run_live

    if args.duration is not None and args.duration <= 0:
        raise CompanionError("--duration must be more than 0 seconds.")
    if args.append and not args.events_jsonl:
        raise CompanionError("--append adds to an events file: give it with --events-jsonl PATH.")
    config = load_config(args.coaching)
    devices = choose_devices(args.agent_device, args.customer_device, args.agent_channel, args.customer_channel)
    print(f"companion: the agent is {devices.agent.key} (channel {devices.agent_channel}), the customer is "
          f"{devices.customer.key} (channel {devices.customer_channel}).", file=sys.stderr)
    model = _choose_model(args.model, _language(args, config))
    stop, toggle_pause = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    if hasattr(signal, "SIGUSR1"):  # not on Windows: the keys still work there
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda signum, frame: toggle_pause.set())
    offer_pause(toggle_pause)  # 'p' and Enter only when stdin is a terminal; says what works here
    try:
        tally = run_live(config, devices, model, args.events_jsonl, args.duration, stop, append=args.append,
                         toggle_pause=toggle_pause)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(f"companion: call ended after {tally['duration_s']:.0f} s; {tally['overflows']} capture overflows, "
          f"{tally['dropped_blocks']} blocks dropped.", file=sys.stderr)
    if tally["save_failed"]:
        which = f"call {tally['call_id']}" if tally["call_id"] is not None else "the call"
        print(f"companion: {which} was not saved to the end ({tally['save_failed']}); what was saved "
              "before is kept and listed as interrupted.", file=sys.stderr)
        return 1
    return 0


def _add_replay(sub: SubParsers) -> None:
    p = sub.add_parser("replay", help="replay a saved call (an id from 'calls list', or a shared .ccall file)")
    p.add_argument("call", metavar="ID|FILE")
    p.add_argument("--history", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_run_replay, needs_front_end=True)


def _run_replay(args: argparse.Namespace, front_end: Optional[FrontEnd]) -> int:
    if front_end is None:
        raise CompanionError(f"'replay' opens a window. {NO_WINDOW}")
    from companion.store.db import open_store

    db = open_store()
    if args.call.isdigit():
        call_id = int(args.call)
    else:
        from pathlib import Path

        from companion.app.importer import content_hash
        from companion.store.bundle import open_bundle

        path = Path(args.call)
        if not path.exists():
            raise CompanionError(f"No such call bundle: {shown(path)}")
        if not path.is_file():
            raise CompanionError(f"{shown(path)} is not a regular file; give a call bundle (.ccall) saved to a file.")
        try:
            digest = content_hash(path)
        except OSError as exc:
            raise CompanionError(f"Cannot read {shown(path.name)}: {exc.strerror or exc}.") from None
        call_id, already = open_bundle(db, path, content_hash=digest)
        if already:
            print(f"companion: {shown(path.name)} is already in the history as call {call_id}; opening it.", file=sys.stderr)
        else:
            print(f"companion: opened {shown(path.name)} as call {call_id}.", file=sys.stderr)
    return front_end.open_replay(db, call_id)


def _add_import(sub: SubParsers) -> None:
    p = sub.add_parser("import", help="existing two-channel recordings and shared call bundles (.ccall) into the history")
    p.add_argument("path", type=_path, metavar="FILE_OR_FOLDER")
    p.add_argument("--recursive", action="store_true", help="also look in subfolders")
    p.add_argument("--model", metavar="DIR|none", default="none", help="transcribe with this model (default: none)")
    p.add_argument("--again", action="store_true", help="import even what the history has already (a second copy)")
    p.add_argument("--jobs", type=int, metavar="N", help="analyse N recordings at once (default: one per core)")
    _add_language(p)
    p.set_defaults(func=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    from companion.app.importer import import_recordings
    from companion.config import load_config

    if args.jobs is not None and args.jobs < 1:
        raise CompanionError(f"--jobs must be 1 or more, not {args.jobs}.")
    config = load_config()
    model = _choose_model(args.model, _language(args, config))
    tally = import_recordings(args.path, config, recursive=args.recursive, model=model, again=args.again, jobs=args.jobs)
    print(f"companion: {tally['imported']} imported, {tally['skipped']} already in the history, {tally['failed']} not imported.",
          file=sys.stderr)
    if tally["skipped"]:
        print("companion: --again imports what is already in the history once more.", file=sys.stderr)
    return 0 if not tally["failed"] else 1


def _add_calls(sub: SubParsers) -> None:
    from companion.app import calls_cli

    calls_cli.add_parser(sub)


def _add_team(sub: SubParsers) -> None:
    from companion.team import cli as team_cli

    team_cli.add_parser(sub)


# The commands, in the order `companion --help` lists them.
COMMANDS: tuple[tuple[str, Callable[[SubParsers], None]], ...] = (
    ("analyze", _add_analyze), ("models", _add_models), ("devices", _add_devices), ("live", _add_live),
    ("settings", _add_settings), ("calls", _add_calls), ("team", _add_team), ("import", _add_import),
    ("replay", _add_replay))


class _Version(argparse.Action):
    """`--version`: the line written straight out (argparse's own action formats it through its help
    formatter, which imports shutil and textwrap)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit"):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: Optional[str] = None) -> None:
        sys.stdout.write(f"companion {__version__}\n")
        parser.exit()


def _top_options(parser: argparse.ArgumentParser, version: type[argparse.Action] | str) -> None:
    parser.add_argument("--version", action=version)
    parser.add_argument("--demo", action="store_true", help="open the window and play the bundled demo call")
    parser.add_argument("--self-check", action="store_true", help="check this installation and report; exit 0 when healthy")
    parser.add_argument("--model", dest="window_model", metavar="DIR|none", help=argparse.SUPPRESS)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it ($COLUMNS, then the terminal, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose help formatter is told the terminal's width: argparse makes one for every
    option added (to check its metavar), and left to itself each would import shutil to measure it.
    Subcommands' parsers are of this class too (argparse makes them of their parent's)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return self.formatter_class(prog=self.prog, width=_columns() - 2)  # type: ignore[call-arg]


class _Unsure(Exception):
    """The quick look at the arguments could not tell the command: the whole parser will."""


class _Peek(Parser):
    def error(self, message: str) -> NoReturn:
        raise _Unsure(message)

    def exit(self, status: int = 0, message: Optional[str] = None) -> NoReturn:
        raise _Unsure(message)


_EVERY = "*"


def _command_named(argv: Optional[Sequence[str]]) -> Optional[str]:
    """The command the arguments name (None: none, i.e. the window, `--version`, `--demo`, `--self-check`),
    read with the same top-level options as the real parser; `_EVERY` when that cannot be told here
    (`--help`, a mistake the real parser will explain)."""
    peek = _Peek(prog="companion", add_help=False)
    _top_options(peek, "store_true")
    sub = peek.add_subparsers(dest="command", prog="companion")
    for name, _ in COMMANDS:
        sub.add_parser(name, add_help=False)
    try:
        args, rest = peek.parse_known_args(argv)
    except _Unsure:
        return _EVERY
    if args.command is None and rest:
        return _EVERY
    return str(args.command) if args.command is not None else None


def build_parser(argv: Optional[Sequence[str]] = None, every: bool = True) -> argparse.ArgumentParser:
    """The command line's parser. With `every=False` only the command that `argv` names is built in full
    and the others are placeholders (no options, no help), so `companion --version` or `companion calls
    list` neither builds nor imports the other commands' parsers (the team's among them); `--help` and
    anything the quick look cannot place get them all."""
    wanted = _EVERY if every else _command_named(argv)
    parser = Parser(prog="companion", description="Call Companion: a private coach beside the softphone.")
    _top_options(parser, _Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog="companion")  # prog given: no help formatter
    for name, add in COMMANDS:
        if wanted in (_EVERY, name):
            add(sub)
        else:
            sub.add_parser(name, add_help=False)
    return parser
