"""`companion calls list|show|export|delete`: the saved calls from the command line.

`calls list` starts as light as a command can: its arguments, when plain, are read by `quick_list` rather
than argparse; listing opens the store only where there is one (a machine that never saved a call has
none, and is told so without one being made); and neither typing, pathlib, re nor the reports are imported
until a listed call needs them."""

from __future__ import annotations

import os
import sys

from companion.errors import CompanionError

TYPE_CHECKING = False  # typing and pathlib are not imported to list calls
if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import Any, Callable, Mapping, Optional, Sequence

EXPORT_MODE = 0o600  # exports hold what was said: owner-only, like the store, unless asked otherwise


def _whole(text: str) -> Optional[int]:
    """A number of calls (0 or more), or None."""
    try:
        n = int(text)
    except ValueError:
        return None
    return n if n >= 0 else None


def _count(text: str) -> int:
    n = _whole(text)
    if n is None:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of calls (0 or more)")
    return n


# `calls list`'s options, in --help's order: (option, METAVAR (None: a flag), what reads its value, default, help).
# The parser is built from these, and `quick_list` reads them.
LIST_OPTIONS: tuple[tuple[str, Optional[str], Callable[[str], Optional[object]], object, Optional[str]], ...] = (
    ("--json", None, bool, False, None),
    ("--search", "TEXT", str, None, "only calls whose transcript has these words"),
    ("--kind", "KIND", str, None, "only calls with this kind of prompt"),
    ("--interrupted", None, bool, False, "only calls cut off by a crash"),
    ("--upset", None, bool, False, "only calls whose customer was upset at some point"),
    ("--limit", "N", _whole, 50, "at most N calls (default 50)"),
    ("--offset", "N", _whole, 0, "skip the N newest (the next page)"),
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from companion.reports.formats import FORMATS

    p = sub.add_parser("calls", help="saved calls: list, show, export, delete")
    csub = p.add_subparsers(dest="calls_command", metavar="ACTION", required=True, prog=p.prog)  # prog: no help formatter
    lst = csub.add_parser("list", help="saved calls, newest first")
    for option, metavar, read, default, help_text in LIST_OPTIONS:
        if metavar is None:
            lst.add_argument(option, action="store_true", help=help_text)
        else:
            lst.add_argument(option, type=_count if read is _whole else read, default=default, metavar=metavar,
                             help=help_text)
    show = csub.add_parser("show", help="one call: its prompts, transcript and pauses")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="the call's whole document, as JSON")
    exp = csub.add_parser("export", help="export a call")
    exp.add_argument("id", type=int)
    exp.add_argument("--format", choices=FORMATS + ("bundle",), default="json",
                     help="json, txt, srt, vtt, csv, html, or bundle (one file to share, with the audio if recorded)")
    exp.add_argument("--output", "-o", type=_path, metavar="FILE", help="write here instead of stdout")
    exp.add_argument("--mode", type=_mode, default=EXPORT_MODE, metavar="OCTAL",
                     help="permissions of the written file (default 600: only you can read it)")
    delete = csub.add_parser("delete", help="remove a call, its transcript and its recording")
    delete.add_argument("id", type=int)
    p.set_defaults(func=run)


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def _mode(text: str) -> int:
    import argparse  # (read by the parser, which has it)

    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 600 or 644") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 600 or 644")
    return mode


class ListArgs:
    """`calls list`'s arguments as the whole parser's Namespace holds them (attributes of the same names)."""

    def __init__(self, **values: object):
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # (for the checkers: the attributes are the parser's)
        raise AttributeError(name)


def quick_list(argv: Sequence[str]) -> Optional[ListArgs]:
    """`calls list OPTIONS` read without argparse: the options of LIST_OPTIONS, each written whole (`--limit 5`
    or `--limit=5`), with values that do not start with `-`. None for anything else — an abbreviation, a
    mistake, `--help`, options before `calls` — which the whole parser then reads (and explains)."""
    if list(argv[:2]) != ["calls", "list"]:
        return None
    values: dict[str, object] = {"demo": False, "self_check": False, "window_model": None, "command": "calls",
                                 "calls_command": "list", "func": run}
    specs = {option: (metavar, read) for option, metavar, read, _default, _help in LIST_OPTIONS}
    for option, _metavar, _read, default, _help in LIST_OPTIONS:
        values[option[2:]] = default
    rest = list(argv[2:])
    while rest:
        option, equals, given = rest.pop(0).partition("=")
        if option not in specs:
            return None
        metavar, read = specs[option]
        if metavar is None:
            if equals:
                return None  # a flag given a value: the parser's error
            values[option[2:]] = True
            continue
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None
            given = rest.pop(0)
        value = read(given)
        if value is None:
            return None  # not a number of calls: the parser's error
        values[option[2:]] = value
    return ListArgs(**values)


def write_private(path: Path, data: bytes, mode: int = EXPORT_MODE) -> None:
    """Write `data` to `path`, created with `mode` (never briefly world-readable)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(path, mode)  # an existing file takes the asked mode too
    except OSError as exc:
        raise CompanionError(f"Cannot write {path}: {exc.strerror or exc}.") from None


def mood_column(call: Mapping[str, Any]) -> str:
    """The listing's mood: "customer upset 01:10", "customer tense", "customer calm", or a dash when never read."""
    from companion.timeline import MOOD_LABELS, clock

    mood = call.get("customer_mood")
    if mood not in MOOD_LABELS:
        return "—"
    shown = f"customer {MOOD_LABELS[mood].lower()}"
    return f"{shown} {clock(call.get('upset_s') or 0.0)}" if mood == "upset" else shown


def _known_kind(kind: str) -> None:
    from companion.prompt_kinds import KINDS
    from companion.textsafe import printable

    if kind not in KINDS:
        raise CompanionError(f"--kind {printable(kind)} is not a kind of prompt; the kinds are: {', '.join(KINDS)}.")


def local_time(stamp: object) -> str:
    """A stored ISO time as "2026-12-06 14:05" in the user's local zone (a stored text that is no time: as it is)."""
    from datetime import datetime

    from companion.textsafe import printable

    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return printable(stamp)


def listing_lines(page: Sequence[tuple[Mapping[str, Any], str]]) -> list[str]:
    """`calls list` as text: a header, then a line per call (the customer's mood: how long upset, if they were)."""
    from companion.textsafe import printable
    from companion.timeline import clock

    lines = [f"{'ID':>6}  {'Started':<16}  {'Length':>6}  {'Source':<8}  {'Status':<11}  {'Customer':<20}  Prompts"]
    for c, source in page:
        mood = mood_column(c)
        lines.append(f"{c['id']:>6}  {local_time(c['started_at']):<16}  {clock(c['duration_s']):>6}  "
                     f"{printable(source):<8}  {printable(c['status']):<11}  {mood:<20}  {c['prompts']:>7}")
    return lines


def call_lines(doc: Mapping[str, Any]) -> list[str]:
    """`calls show` as text: what the call was, its prompts, its transcript (time, party, words), its pauses, and
    a supervisor's messages and the comments when it has any."""
    from companion.prompt_kinds import PROMPT_KINDS
    from companion.textsafe import printable
    from companion.timeline import clock

    call = doc.get("call") or {}
    lines = [f"Call {call.get('id')}  {local_time(call.get('started_at'))}  {clock(doc.get('duration_s') or 0.0)}  "
             f"{printable(call.get('source') or '')}  {printable(call.get('status') or '')}",
             f"File: {printable(doc.get('file'))}"]
    if call.get("playbook"):
        lines.append(f"Playbook: {printable(call['playbook'])}")
    prompts = doc.get("prompts") or []
    lines += ["", f"Prompts ({len(prompts)})" if prompts else "Prompts: none"]
    for p in prompts:
        kind = PROMPT_KINDS.get(p.get("kind"))
        label = kind.label if kind else printable(p.get("kind"))
        lines.append(f"  {clock(p.get('t') or 0.0)}  {label}" + (f" — {printable(p['reason'])}" if p.get("reason") else ""))
    segments = call.get("segments") or []
    lines += ["", "Transcript" if segments else "Transcript: none (no speech model, or nothing said)"]
    for s in segments:
        lines.append(f"  {clock(s.get('start') or 0.0)}  {printable(s.get('party')):<8}  {printable(s.get('text'))}")
    pauses = call.get("pauses") or []
    lines += ["", "Pauses" if pauses else "Pauses: none"]
    for pause in pauses:
        lines.append(f"  {clock(pause.get('start') or 0.0)} – {clock(pause.get('end') or 0.0)}")
    messages = call.get("supervisor_messages") or []
    if messages:  # the team live: what a supervisor sent the agent during the call, apart from the coaching
        lines += ["", f"Messages from a supervisor ({len(messages)})"]
        lines += [f"  {clock(m.get('t') or 0.0)}  {printable(m.get('sender'))}: {printable(m.get('text'))}" for m in messages]
    comments = call.get("comments") or []
    if comments:
        lines += ["", f"Comments ({len(comments)})"]
        lines += [f"  {clock(c.get('t') or 0.0)}  {printable(c.get('author') or 'someone')}: {printable(c.get('text'))}"
                  for c in comments]
    return lines


def _list(args: argparse.Namespace | ListArgs) -> int:
    """`calls list`: a page of the saved calls, newest first. Where no call was ever saved there is no store,
    and none is made to say so."""
    from companion.store.location import has_store

    db = None
    if has_store():  # (sqlite3 is not even imported to say there are no calls)
        from companion.store.db import open_existing_store

        db = open_existing_store()
    try:
        if args.search is not None and not args.search.split():
            raise CompanionError("--search needs at least one word to look for.")
        if args.kind is not None:
            _known_kind(args.kind)
        page: list[tuple[Mapping[str, Any], str]] = []
        if db is not None:
            from companion.store.calls import calls_page

            page = calls_page(db, args.limit, args.offset, text=args.search, kind=args.kind,  # type: ignore[assignment]
                              interrupted=True if args.interrupted else None, upset=True if args.upset else None)
        if args.json:
            import json

            print(json.dumps([listing for listing, _ in page]))
        elif page:
            print("\n".join(listing_lines(page)))
        else:
            filtered = args.search or args.kind or args.interrupted or args.upset or args.offset
            print("No calls match." if filtered else "No saved calls yet.")
        return 0
    finally:
        if db is not None:
            db.close()


def run(args: argparse.Namespace | ListArgs) -> int:
    if args.calls_command == "list":
        return _list(args)
    from companion.store.calls import load_call
    from companion.store.db import delete_call, open_store

    db = open_store()
    try:
        if args.calls_command == "delete":
            load_call(db, args.id)  # a clear error for an unknown id
            delete_call(db, args.id)
            print(f"companion: call {args.id} deleted.", file=sys.stderr)
            return 0
        if args.calls_command == "export" and args.format == "bundle":
            from pathlib import Path

            from companion.store.bundle import SUFFIX, export_bundle

            target = args.output or Path(f"call-{args.id}{SUFFIX}")
            load_call(db, args.id)
            print(export_bundle(db, args.id, target, mode=args.mode))
            return 0
        from companion.reports.export import export

        doc = load_call(db, args.id)
        if args.calls_command == "show" and not args.json:
            print("\n".join(call_lines(doc)))
            return 0
        text = export(doc, "json" if args.calls_command == "show" else args.format)
        if getattr(args, "output", None):
            write_private(args.output, text.encode("utf-8"), args.mode)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    finally:
        db.close()
