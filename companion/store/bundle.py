"""A call to share with a supervisor on another machine: one file (a zip with the call's data and,
when it was recorded, its audio), and opening such a file into the local store."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

from companion.errors import CompanionError
from companion.store.calls import load_call
from companion.store.recording import recordings_dir

SUFFIX = ".ccall"


def export_bundle(db: sqlite3.Connection, call_id: int, path: Path) -> Path:
    doc = load_call(db, call_id)
    recording = db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0]
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("call.json", json.dumps(doc, ensure_ascii=False))
            if recording and Path(recording).is_file():
                zf.write(recording, "recording.flac")
    except OSError as exc:
        raise CompanionError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path


def import_bundle(db: sqlite3.Connection, path: Path) -> int:
    """Add the bundled call to this machine's store; returns its new id."""
    try:
        with zipfile.ZipFile(path) as zf:
            doc = json.loads(zf.read("call.json"))
            audio = zf.read("recording.flac") if "recording.flac" in zf.namelist() else None
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
        raise CompanionError(f"{Path(path).name} is not a Call Companion call bundle.") from None
    call = doc["call"]
    with db:
        cid = db.execute(
            "INSERT INTO calls(started_at, source, file, duration_s, status, playbook, pace_source, agent_wpm, "
            "agent_talk_ratio, longest_agent_monologue_s) VALUES (?, 'bundle', ?, ?, ?, ?, ?, ?, ?, ?)",
            (call["started_at"], doc["file"], doc["duration_s"], call["status"], call["playbook"], doc["pace_source"],
             doc["agent_wpm"], doc["agent_talk_ratio"], doc["longest_agent_monologue_s"])).lastrowid
        db.executemany('INSERT INTO turns(call_id, party, start, "end") VALUES (?, ?, ?, ?)',
                       [(cid, t["party"], t["start"], t["end"]) for t in doc["turns"]])
        db.executemany('INSERT INTO segments(call_id, party, start, "end", text) VALUES (?, ?, ?, ?, ?)',
                       [(cid, s["party"], s["start"], s["end"], s["text"]) for s in call["segments"]])
        db.executemany("INSERT INTO prompts(call_id, t, kind, reason) VALUES (?, ?, ?, ?)",
                       [(cid, p["t"], p["kind"], p["reason"]) for p in doc["prompts"]])
        db.executemany("INSERT INTO interruptions(call_id, t, by, overlap_s) VALUES (?, ?, ?, ?)",
                       [(cid, i["t"], i["by"], i["overlap_s"]) for i in doc["interruptions"]])
        volume = {v["t"]: v["db"] for v in call.get("volume", [])}
        pace = {p["t"]: p["wpm"] for p in doc["pace"]}
        db.executemany("INSERT INTO metrics(call_id, t, pace_wpm, loudness_delta_db, talk_share, data) VALUES (?, ?, ?, ?, NULL, '{}')",
                       [(cid, t, pace.get(t), volume.get(t)) for t in sorted(set(pace) | set(volume))])
        db.executemany("INSERT INTO ticks(call_id, t, step_id, title, source, done) VALUES (?, ?, ?, ?, ?, ?)",
                       [(cid, k["t"], k["step_id"], k["title"], k["source"], k["done"]) for k in call["checklist"]])
        if call.get("notes"):
            db.execute("INSERT INTO notes(call_id, root_cause) VALUES (?, ?)", (cid, call["notes"]))
        db.executemany("INSERT INTO comments(call_id, t, author, text, created_at) VALUES (?, ?, ?, ?, ?)",
                       [(cid, c["t"], c["author"], c["text"], c["created_at"]) for c in call["comments"]])
        if audio is not None:
            target = recordings_dir() / f"call-{cid}.flac"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(audio)
            target.chmod(0o600)
            db.execute("UPDATE calls SET recording = ? WHERE id = ?", (str(target), cid))
    return cid
