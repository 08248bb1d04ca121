"""A call to share with a supervisor on another machine: one file (a zip with the call's data and,
when it was recorded, its audio), and opening such a file into the local store.

Opening is for files from elsewhere: members and sizes are checked before they are read
(`bundle_check`), every field is checked before it is stored, all text is redacted on the way in
(the playbook's name, prompt kinds and step ids too: they are free text in a file), and the audio
is streamed to disk and must be the two-channel FLAC the app writes. An export is checked by the
same rules before it is written: the app never writes a bundle it would refuse."""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from pathlib import Path
from typing import Optional, overload

import soundfile as sf

from companion.errors import CompanionError
from companion.store import bundle_check
from companion.store.bundle_check import (
    CALL_JSON,
    FORMAT,
    FORMAT_VERSION,
    RECORDING,
    BundleError,
    CheckedCall,
    check_call,
    check_members,
    read_capped,
)
from companion.store.calls import load_call
from companion.store.queries import call_uuid, call_with_uuid, calls_with_content
from companion.store.recording import recordings_dir
from companion.store.redaction import redact
from companion.store.rows import CallRows, insert_call, mood_totals
from companion.store.writes import private_dir
from companion.textsafe import shown

SUFFIX = ".ccall"


@overload
def _redacted(text: str) -> str: ...
@overload
def _redacted(text: Optional[str]) -> Optional[str]: ...
def _redacted(text: Optional[str]) -> Optional[str]:
    return redact(text) if text else text


def export_bundle(db: sqlite3.Connection, call_id: int, path: Path, mode: int = 0o600) -> Path:
    doc = {"format": {"name": FORMAT, "version": FORMAT_VERSION}, **load_call(db, call_id)}
    doc["call"]["playbook"] = _redacted(doc["call"]["playbook"])
    doc["call"]["uuid"] = call_uuid(db, call_id)  # opened again anywhere, it is the same call
    try:
        check_call(doc, f"call {call_id}")
    except BundleError as exc:
        raise CompanionError(f"Call {call_id} cannot be shared as a bundle: {exc.message.split(': ', 1)[-1]}") from None
    recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0]
    data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    audio = os.path.getsize(recording) if recording and Path(recording).is_file() else 0
    for member, size, limit in ((CALL_JSON, len(data), bundle_check.MAX_JSON_BYTES),
                                (RECORDING, audio, bundle_check.MAX_RECORDING_BYTES)):
        if size > limit:  # the sizes an import accepts, as it checks them
            raise CompanionError(f"Call {call_id} cannot be shared as a bundle: its {member} would be {bundle_check.size_text(size)}, "
                                 f"more than the {bundle_check.size_text(limit)} a call can have.")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(CALL_JSON, data)
            if recording and Path(recording).is_file():
                zf.write(recording, RECORDING, compress_type=zipfile.ZIP_STORED)  # FLAC does not deflate
        os.chmod(path, mode)
    except OSError as exc:
        raise CompanionError(f"Cannot write {shown(path)}: {exc.strerror or exc}.") from None
    return path


def import_bundle(db: sqlite3.Connection, path: Path, content_hash: Optional[str] = None, again: bool = False) -> int:
    """The bundled call in this machine's store: its id, the existing call's when the store has it already
    (`open_bundle`)."""
    return open_bundle(db, path, content_hash, again)[0]


def open_bundle(db: sqlite3.Connection, path: Path, content_hash: Optional[str] = None,
                again: bool = False) -> tuple[int, bool]:
    """(call id, whether the store had the call already). A bundle is checked first; then, unless `again`,
    the call it carries is looked for by its UUID (a bundle from before UUIDs: by the file's content hash)
    and, when the store has it, nothing is added. Otherwise it is added under its own UUID (with `again`,
    or when that UUID is taken, a new one: a copy). Nothing is stored from a bundle that fails a check."""
    name = shown(Path(path).name)
    try:
        with zipfile.ZipFile(path) as zf:
            members = check_members(zf, name)
            try:
                doc = json.loads(read_capped(zf, members[CALL_JSON], name))
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                raise BundleError(f"{name} is not a valid Call Companion call bundle: call.json is not JSON.") from None
            call = check_call(doc, name)
            if not again:
                existing = _existing(db, call["uuid"], content_hash)
                if existing is not None:
                    return existing, True
            audio = _unpack_audio(zf, members[RECORDING], name) if RECORDING in members else None
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError):
        raise CompanionError(f"{name} is not a Call Companion call bundle.") from None
    if call["uuid"] is not None and (again or call_with_uuid(db, call["uuid"]) is not None):
        call["uuid"] = None  # a copy of a call the store has: a call of its own
    try:
        return _store(db, call, audio, content_hash), False
    except BaseException:
        if audio is not None:
            audio.unlink(missing_ok=True)
        raise


def _existing(db: sqlite3.Connection, call_uuid: Optional[str], content_hash: Optional[str]) -> Optional[int]:
    if call_uuid is not None:
        found = call_with_uuid(db, call_uuid)
        if found is not None:
            return found
    if content_hash is not None:
        earlier = calls_with_content(db, content_hash)
        if earlier:
            return int(earlier[0]["id"])
    return None


def _unpack_audio(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Path:
    """The recording, streamed to an owner-only file beside the store and checked to be audio."""
    target = private_dir(recordings_dir()) / f".incoming-{os.getpid()}.flac"
    try:
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
            read_capped(zf, info, name, out=out)
        try:
            audio = sf.info(str(target))
        except (sf.LibsndfileError, RuntimeError):
            raise BundleError(f"{name} is not a valid Call Companion call bundle: its recording is not audio.") from None
        if audio.format != "FLAC" or audio.channels != 2:
            raise BundleError(f"{name} is not a valid Call Companion call bundle: its recording is not a two-channel FLAC.")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _store(db: sqlite3.Connection, call: CheckedCall, audio: Optional[Path], content_hash: Optional[str] = None) -> int:
    with db:
        cid = insert_call(db, call["started_at"], "bundle", call["file"], duration_s=call["duration_s"], status=call["status"],
                          playbook=_redacted(call["playbook"]), pace_source=call["pace_source"], agent_wpm=call["agent_wpm"],
                          agent_talk_ratio=call["agent_talk_ratio"],
                          longest_agent_monologue_s=call["longest_agent_monologue_s"], content_hash=content_hash,
                          uuid=call["uuid"])  # None: a new one
        rows = CallRows(db, cid, redaction=True)  # another machine's text: always redacted here
        for party, start, end in call["turns"]:
            rows.turn(party, start, end)
        rows.transcript(call["segments"])  # judged in memory, each row written once: linear in its length
        for t, kind, reason in call["prompts"]:
            rows.prompt(t, _redacted(kind), reason)
        for t, by, overlap in call["interruptions"]:
            rows.interruption(t, by, overlap)
        for t, state in call["customer_states"]:
            rows.customer_state(t, state)
        mood_totals(db, cid, call["duration_s"])
        pace, volume = call["pace"], call["volume"]
        for t in sorted(set(pace) | set(volume)):
            rows.metric(t, pace.get(t), volume.get(t), None)
        for t, step_id, title, source, done in call["checklist"]:
            rows.tick(t, _redacted(step_id), title, source, done)
        if call["notes"]:
            rows.note(call["notes"])
        for t, author, text, created_at in call["comments"]:
            rows.comment(t, author, text, created_at)
        for t, sender, text in call["supervisor_messages"]:
            rows.supervisor_message(t, sender, text)
        db.executemany('INSERT INTO pauses(call_id, start, "end") VALUES (?, ?, ?)',
                       [(cid, start, end) for start, end in call["pauses"]])
        if audio is not None:
            target = audio.with_name(f"call-{cid}.flac")
            audio.replace(target)
            db.execute("UPDATE calls SET recording = ? WHERE id = ?", (str(target), cid))
    return cid
