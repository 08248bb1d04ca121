"""What a call bundle from another machine must look like before anything of it is stored.

A bundle is untrusted input: every field of `call.json` is checked for its type and range (a
string where a number belongs, a party of "hacker", a date with terminal escapes in it are all
refused), and the members of the zip are checked for their names and sizes before they are read.

Sizes are bounded absolutely: call.json at `MAX_JSON_BYTES`, each text in it at `MAX_TEXT`, the
recording at `MAX_RECORDING_BYTES`, and no member is read past the size its header declares. How
much call.json deflates says nothing (a long comment typed as one repeated phrase deflates a
thousandfold, and the app writes it so), so only the recording, which the app stores as it is,
must not inflate.
"""

from __future__ import annotations

import math
import uuid
import zipfile
from datetime import datetime
from typing import IO, Any, Literal, Optional, TypedDict, overload

from companion.errors import CompanionError
from companion.events import CUSTOMER_STATES

CALL_JSON = "call.json"
RECORDING = "recording.flac"
MAX_JSON_BYTES = 64 * 1024 * 1024            # a day of transcript is a few MB
MAX_RECORDING_BYTES = 4 * 1024 * 1024 * 1024  # 24 h of two-channel 16 kHz FLAC fits well inside
MAX_RATIO = 20                               # the recording: FLAC barely deflates; a zip bomb inflates 1000x
MAX_SECONDS = 24 * 3600.0
MAX_TEXT = 8_000_000                         # characters of one text: a comment or note far longer than anyone types
MAX_ROWS = 1_000_000
PARTIES = ("agent", "customer")
FORMAT = "call-companion-bundle"
# 1: before the format was named (read as 1); 2: named and versioned, with pauses. `customer_states`
# came later within 2: optional, and an app that does not know them opens the call without them (no
# field it reads changed), so they did not need a new version; `call.uuid` (the call's own, so a bundle opened
# twice is one call) came the same way.
FORMAT_VERSION = 2
_MIB, _GIB = 1 << 20, 1 << 30


class BundleError(CompanionError):
    """A call bundle that cannot be opened safely."""


class CheckedCall(TypedDict):
    """A bundle's `call.json`, checked: plain values, ready to be stored."""

    file: Optional[str]
    duration_s: float
    pace_source: Optional[str]
    agent_wpm: Optional[float]
    agent_talk_ratio: Optional[float]
    longest_agent_monologue_s: Optional[float]
    started_at: str
    status: str
    playbook: Optional[str]
    notes: Optional[str]
    uuid: Optional[str]
    turns: list[tuple[str, float, float]]                     # (party, start, end)
    segments: list[tuple[str, float, float, str]]             # (party, start, end, text)
    prompts: list[tuple[float, str, str]]                     # (t, kind, reason)
    interruptions: list[tuple[float, str, float]]             # (t, by, overlap_s)
    pace: dict[float, float]                                  # t -> words a minute
    volume: dict[float, float]                                # t -> loudness against the call's start, dB
    checklist: list[tuple[float, str, str, str, bool]]        # (t, step_id, title, source, done)
    pauses: list[tuple[float, float]]                         # (start, end)
    customer_states: list[tuple[float, str]]                  # (t, state)
    comments: list[tuple[float, Optional[str], str, str]]     # (t, author, text, created_at)
    supervisor_messages: list[tuple[float, str, str]]         # (t, sender, text): the team live, during the call


def size_text(size: int) -> str:
    """Bytes in MiB, or GiB from about 1 GiB, as the README gives the limits ("64 MiB", "4 GiB"); rounded up to
    a tenth, so a size over a limit never reads as the limit itself."""
    unit, name = (_GIB, "GiB") if -(-size * 10 // _MIB) > 10230 else (_MIB, "MiB")   # never "1024 MiB"
    tenths = -(-size * 10 // unit)
    return f"{tenths // 10} {name}" if tenths % 10 == 0 else f"{tenths / 10:.1f} {name}"


def _bad(name: str, where: str, why: str) -> BundleError:
    return BundleError(f"{name} is not a valid Call Companion call bundle: {where} {why}.")


def check_members(zf: zipfile.ZipFile, name: str) -> dict[str, zipfile.ZipInfo]:
    """The bundle's members by name; refuses unknown members and sizes a call cannot have."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if info.filename not in (CALL_JSON, RECORDING):
            raise _bad(name, f"it holds {info.filename[:80]!r},", "which a call bundle never has")
        if info.filename in members:
            raise _bad(name, f"it holds {info.filename} twice", "")
        limit = MAX_JSON_BYTES if info.filename == CALL_JSON else MAX_RECORDING_BYTES
        if info.file_size > limit:
            raise _bad(name, f"{info.filename} would unpack to {size_text(info.file_size)},",
                       f"more than the {size_text(limit)} a call can have")
        if info.filename == RECORDING and info.file_size > MAX_RATIO * info.compress_size + 1024 * 1024:
            raise _bad(name, f"{info.filename} would unpack to {size_text(info.file_size)} from "
                       f"{size_text(info.compress_size)},", "which no real call does")
        members[info.filename] = info
    if CALL_JSON not in members:
        raise _bad(name, "it has no call.json", "")
    return members


@overload
def read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, out: None = None) -> bytes: ...
@overload
def read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, out: IO[bytes]) -> None: ...
def read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, out: Optional[IO[bytes]] = None) -> Optional[bytes]:
    """A member's bytes (or streamed into `out`), never more than its declared size: a header that
    lies about the size is caught as the data comes, not after it has filled memory or the disk."""
    limit, got = info.file_size, 0
    parts: list[bytes] = []
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1024 * 1024)
            if not chunk:
                break
            got += len(chunk)
            if got > limit:
                raise _bad(name, f"{info.filename} is larger than its header says", "")
            if out is not None:
                out.write(chunk)
            else:
                parts.append(chunk)
    return None if out is not None else b"".join(parts)


# --- call.json ------------------------------------------------------------------------------------

@overload
def _number(value: Any, where: str, name: str, lo: float = ..., hi: float = ..., optional: Literal[False] = ...) -> float: ...
@overload
def _number(value: Any, where: str, name: str, lo: float = ..., hi: float = ..., *, optional: bool) -> Optional[float]: ...
def _number(value: Any, where: str, name: str, lo: float = 0.0, hi: float = MAX_SECONDS,
            optional: bool = False) -> Optional[float]:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not lo <= value <= hi:
        raise _bad(name, where, f"must be a number from {lo:g} to {hi:g}")
    return float(value)


@overload
def _text(value: Any, where: str, name: str, optional: Literal[False] = ..., choices: tuple[str, ...] = ...) -> str: ...
@overload
def _text(value: Any, where: str, name: str, optional: bool, choices: tuple[str, ...] = ...) -> Optional[str]: ...
def _text(value: Any, where: str, name: str, optional: bool = False, choices: tuple[str, ...] = ()) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(name, where, "must be text")
    if len(value) > MAX_TEXT:
        raise _bad(name, where, f"is longer than the {MAX_TEXT:,} characters a text may have")
    if choices and value not in choices:
        raise _bad(name, where, f"must be one of {', '.join(choices)}")
    return value


def _list(value: Any, where: str, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise _bad(name, where, "must be a list")
    for item in value:
        if not isinstance(item, dict):
            raise _bad(name, where, "must be a list of objects")
    return value


def _table(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(name, where, "must be an object")
    return value


def _timestamp(value: Any, where: str, name: str) -> str:
    text = _text(value, where, name)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _bad(name, where, "must be a date and time such as 2026-11-22T10:30:00+00:00") from None
    return parsed.isoformat(timespec="seconds")


def check_format(doc: dict[str, Any], name: str) -> int:
    """The bundle format's version: 1 for bundles from before it was named; a newer one is refused."""
    fmt = doc.get("format")
    if fmt is None:
        return 1
    fmt = _table(fmt, "format", name)
    if fmt.get("name") != FORMAT:
        raise _bad(name, "format.name", f"must be {FORMAT}")
    version = fmt.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _bad(name, "format.version", "must be a whole number from 1")
    if version > FORMAT_VERSION:
        raise BundleError(f"{name} was made by a newer Call Companion (bundle format {version}; this one reads up to "
                          f"{FORMAT_VERSION}): update the app to open it.")
    return version


def check_call(doc: Any, name: str) -> CheckedCall:
    """`call.json` as plain, checked values (numbers as floats, dates re-written), or BundleError."""
    doc = _table(doc, "the document", name)
    check_format(doc, name)
    call = _table(doc.get("call"), "call", name)
    g = doc.get
    out: CheckedCall = {
        "file": _text(g("file"), "file", name, optional=True),
        "duration_s": (duration_s := _number(g("duration_s"), "duration_s", name)),
        "pace_source": _text(g("pace_source"), "pace_source", name, optional=True, choices=("asr", "acoustic")),
        "agent_wpm": _number(g("agent_wpm"), "agent_wpm", name, hi=1000, optional=True),
        "agent_talk_ratio": _number(g("agent_talk_ratio"), "agent_talk_ratio", name, hi=1, optional=True),
        "longest_agent_monologue_s": _number(g("longest_agent_monologue_s"), "longest_agent_monologue_s", name, optional=True),
        "started_at": _timestamp(call.get("started_at"), "call.started_at", name),
        "status": _text(call.get("status"), "call.status", name, choices=("complete", "interrupted")),
        "playbook": _text(call.get("playbook"), "call.playbook", name, optional=True),
        "notes": _text(call.get("notes"), "call.notes", name, optional=True),
        "uuid": _uuid(call.get("uuid"), name),
        "turns": [(_text(t.get("party"), "turns[].party", name, choices=PARTIES),
                   _number(t.get("start"), "turns[].start", name), _number(t.get("end"), "turns[].end", name))
                  for t in _list(g("turns"), "turns", name)],
        "segments": [(_text(s.get("party"), "call.segments[].party", name, choices=PARTIES),
                      _number(s.get("start"), "call.segments[].start", name),
                      _number(s.get("end"), "call.segments[].end", name), _text(s.get("text"), "call.segments[].text", name))
                     for s in _list(call.get("segments"), "call.segments", name)],
        "prompts": [(_number(p.get("t"), "prompts[].t", name), _text(p.get("kind"), "prompts[].kind", name),
                     _text(p.get("reason"), "prompts[].reason", name))
                    for p in _list(g("prompts"), "prompts", name)],
        "interruptions": [(_number(i.get("t"), "interruptions[].t", name),
                           _text(i.get("by"), "interruptions[].by", name, choices=PARTIES),
                           _number(i.get("overlap_s"), "interruptions[].overlap_s", name))
                          for i in _list(g("interruptions"), "interruptions", name)],
        "pace": {_number(p.get("t"), "pace[].t", name): _number(p.get("wpm"), "pace[].wpm", name, hi=1000)
                 for p in _list(g("pace"), "pace", name)},
        "volume": {_number(v.get("t"), "call.volume[].t", name): _number(v.get("db"), "call.volume[].db", name, lo=-200, hi=200)
                   for v in _list(call.get("volume", []), "call.volume", name)},
        "checklist": [(_number(k.get("t"), "call.checklist[].t", name), _text(k.get("step_id"), "call.checklist[].step_id", name),
                       _text(k.get("title"), "call.checklist[].title", name),
                       _text(k.get("source"), "call.checklist[].source", name, choices=("auto", "manual")),
                       bool(k.get("done", True)))
                      for k in _list(call.get("checklist", []), "call.checklist", name)],
        "pauses": [(_number(q.get("start"), "call.pauses[].start", name), _number(q.get("end"), "call.pauses[].end", name))
                   for q in _list(call.get("pauses", []), "call.pauses", name)],
        "customer_states": _customer_states(g("customer_states", []), duration_s, name),
        "comments": [(_number(c.get("t"), "call.comments[].t", name),
                      _text(c.get("author"), "call.comments[].author", name, optional=True),
                      _text(c.get("text"), "call.comments[].text", name),
                      _timestamp(c.get("created_at"), "call.comments[].created_at", name))
                     for c in _list(call.get("comments", []), "call.comments", name)],
        "supervisor_messages": [(_number(m.get("t"), "call.supervisor_messages[].t", name, hi=duration_s + 0.001),
                                 _text(m.get("sender"), "call.supervisor_messages[].sender", name),
                                 _text(m.get("text"), "call.supervisor_messages[].text", name))
                                for m in _list(call.get("supervisor_messages", []), "call.supervisor_messages", name)],
    }
    return out


def _uuid(value: Any, name: str) -> Optional[str]:
    """The call's UUID (the same call is the same call on every machine), canonical; None in a bundle from
    before bundles carried it."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(_text(value, "call.uuid", name))[:64]))
    except ValueError:
        raise _bad(name, "call.uuid", "must be a UUID") from None


def _customer_states(value: Any, duration_s: float, name: str) -> list[tuple[float, str]]:
    """The customer's mood changes: each a known state at a time within the call (to the millisecond its
    duration is exported with), in time order."""
    states = [(_number(c.get("t"), "customer_states[].t", name, hi=duration_s + 0.001),
               _text(c.get("state"), "customer_states[].state", name, choices=CUSTOMER_STATES))
              for c in _list(value, "customer_states", name)]
    if any(later[0] < earlier[0] for earlier, later in zip(states, states[1:])):
        raise _bad(name, "customer_states", "must be in time order")
    return states
