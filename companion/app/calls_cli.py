"""`companion calls list|show|export|delete`: the saved calls from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Mapping

from companion.errors import CompanionError
from companion.reports.formats import FORMATS
from companion.textsafe import printable

EXPORT_MODE = 0o600  # exports hold what was said: owner-only, like the store, unless asked otherwise


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calls", help="saved calls: list, show, export, delete")
    csub = p.add_subparsers(dest="calls_command", metavar="ACTION", required=True)
    lst = csub.add_parser("list", help="saved calls, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--search", metavar="TEXT", help="only calls whose transcript has these words")
    lst.add_argument("--kind", metavar="KIND", help="only calls with this kind of prompt")
    lst.add_argument("--interrupted", action="store_true", help="only calls cut off by a crash")
    lst.add_argument("--upset", action="store_true", help="only calls whose customer was upset at some point")
    lst.add_argument("--limit", type=_count, default=50, metavar="N", help="at most N calls (default 50)")
    lst.add_argument("--offset", type=_count, default=0, metavar="N", help="skip the N newest (the next page)")
    show = csub.add_parser("show", help="one call as JSON")
    show.add_argument("id", type=int)
    exp = csub.add_parser("export", help="export a call")
    exp.add_argument("id", type=int)
    exp.add_argument("--format", choices=FORMATS + ("bundle",), default="json",
                     help="json, txt, srt, vtt, csv, html, or bundle (one file to share, with the audio if recorded)")
    exp.add_argument("--output", "-o", type=Path, metavar="FILE", help="write here instead of stdout")
    exp.add_argument("--mode", type=_mode, default=EXPORT_MODE, metavar="OCTAL",
                     help="permissions of the written file (default 600: only you can read it)")
    delete = csub.add_parser("delete", help="remove a call, its transcript and its recording")
    delete.add_argument("id", type=int)
    p.set_defaults(func=run)


def _mode(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 600 or 644") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"{text!r} is not an octal mode such as 600 or 644")
    return mode


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of calls (0 or more)")
    return n


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


def run(args: argparse.Namespace) -> int:
    from companion.store.calls import list_calls, load_call
    from companion.store.db import delete_call, open_store

    db = open_store()
    try:
        if args.calls_command == "list":
            if args.search is not None and not args.search.split():
                raise CompanionError("--search needs at least one word to look for.")
            calls = list_calls(db, args.limit, args.offset, text=args.search, kind=args.kind,
                               interrupted=True if args.interrupted else None, upset=True if args.upset else None)
            if args.json:
                print(json.dumps(calls))
            else:
                for c in calls:
                    print(f"{c['id']:>6}  {printable(c['started_at'])}  {c['duration_s']:>7.0f} s  "
                          f"{printable(c['status']):<11} {mood_column(c):<20} {c['prompts']} prompts")
            return 0
        if args.calls_command == "delete":
            load_call(db, args.id)  # a clear error for an unknown id
            delete_call(db, args.id)
            print(f"companion: call {args.id} deleted.", file=sys.stderr)
            return 0
        if args.calls_command == "export" and args.format == "bundle":
            from companion.store.bundle import SUFFIX, export_bundle

            target = args.output or Path(f"call-{args.id}{SUFFIX}")
            load_call(db, args.id)
            print(export_bundle(db, args.id, target, mode=args.mode))
            return 0
        from companion.reports.export import export

        doc = load_call(db, args.id)
        text = export(doc, "json" if args.calls_command == "show" else args.format)
        if getattr(args, "output", None):
            write_private(args.output, text.encode("utf-8"), args.mode)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    finally:
        db.close()
