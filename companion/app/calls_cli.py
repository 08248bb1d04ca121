"""`companion calls list|show|export|delete`: the saved calls from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from companion.errors import CompanionError
from companion.reports.formats import FORMATS
from companion.textsafe import printable

TYPE_CHECKING = False  # typing and pathlib are not imported to list calls
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Mapping, Sequence

EXPORT_MODE = 0o600  # exports hold what was said: owner-only, like the store, unless asked otherwise


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calls", help="saved calls: list, show, export, delete")
    csub = p.add_subparsers(dest="calls_command", metavar="ACTION", required=True, prog=p.prog)  # prog: no help formatter
    lst = csub.add_parser("list", help="saved calls, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--search", metavar="TEXT", help="only calls whose transcript has these words")
    lst.add_argument("--kind", metavar="KIND", help="only calls with this kind of prompt")
    lst.add_argument("--interrupted", action="store_true", help="only calls cut off by a crash")
    lst.add_argument("--upset", action="store_true", help="only calls whose customer was upset at some point")
    lst.add_argument("--limit", type=_count, default=50, metavar="N", help="at most N calls (default 50)")
    lst.add_argument("--offset", type=_count, default=0, metavar="N", help="skip the N newest (the next page)")
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


def _known_kind(kind: str) -> None:
    from companion.prompt_kinds import KINDS

    if kind not in KINDS:
        raise CompanionError(f"--kind {printable(kind)} is not a kind of prompt; the kinds are: {', '.join(KINDS)}.")


def local_time(stamp: object) -> str:
    """A stored ISO time as "2026-12-06 14:05" in the user's local zone (a stored text that is no time: as it is)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return printable(stamp)


def listing_lines(page: Sequence[tuple[Mapping[str, Any], str]]) -> list[str]:
    """`calls list` as text: a header, then a line per call (the customer's mood: how long upset, if they were)."""
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


def run(args: argparse.Namespace) -> int:
    from companion.store.calls import calls_page, load_call
    from companion.store.db import delete_call, open_store

    db = open_store()
    try:
        if args.calls_command == "list":
            if args.search is not None and not args.search.split():
                raise CompanionError("--search needs at least one word to look for.")
            if args.kind is not None:
                _known_kind(args.kind)
            page = calls_page(db, args.limit, args.offset, text=args.search, kind=args.kind,
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
