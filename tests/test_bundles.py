"""A call bundle is a file from another machine: it is checked before anything of it is stored, its
text is redacted on the way in, and nothing in it can break the history, a spreadsheet or a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from companion.resources import resource_path
from companion.session import CallSession
from companion.store.calls import list_calls
from companion.store.db import open_store
from tests.installed import OUTSIDE
from tests.test_saving import CARD, _all_text, _config


def companion(*args):
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ), cwd=OUTSIDE, timeout=300)


@pytest.fixture(scope="module")
def good_doc(tmp_path_factory) -> dict:
    """call.json of a real call, exported by the app."""
    os.environ["COMPANION_DATA_DIR"] = str(tmp_path_factory.mktemp("sender"))
    session = CallSession(_config())
    recorder = session.keep("demo")
    session.start_demo(resource_path("demo/demo_call.flac"), speed=30.0)
    assert session.ended.wait(60)
    out = tmp_path_factory.mktemp("bundle") / "call.ccall"
    assert companion("calls", "export", recorder.call_id, "--format", "bundle", "-o", out).returncode == 0
    with zipfile.ZipFile(out) as zf:
        return json.loads(zf.read("call.json"))


def bundle(path: Path, doc: dict, **members) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("call.json", json.dumps(doc))
        for name, data in members.items():
            zf.writestr(name.replace("_", "."), data)
    return path


def changed(doc: dict, change) -> dict:
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


def test_a_real_bundle_opens(good_doc, tmp_path):
    db = open_store()
    from companion.store.bundle import import_bundle

    cid = import_bundle(db, bundle(tmp_path / "ok.ccall", good_doc))
    assert [c["id"] for c in list_calls(db)] == [cid]


@pytest.mark.parametrize("name, change, says", [
    ("string duration", lambda d: d.update(duration_s="long"), "duration_s must be a number"),
    ("negative time", lambda d: d["turns"][0].update(start=-5), "turns[].start must be a number"),
    ("NaN pace", lambda d: d.update(agent_wpm=float("nan")), "agent_wpm must be a number"),
    ("unknown party", lambda d: d["turns"][0].update(party="hacker"), "turns[].party must be one of agent, customer"),
    ("escape codes in the date", lambda d: d["call"].update(started_at="\x1b]0;pwned\x07\x1b[2J2026-01-01"),
     "call.started_at must be a date"),
    ("missing key", lambda d: d.pop("turns"), "turns must be a list"),
    ("a list that is text", lambda d: d["call"].update(segments="abc"), "call.segments must be a list"),
])
def test_a_bundle_with_a_bad_field_is_refused_and_the_history_still_lists(good_doc, tmp_path, name, change, says):
    path = bundle(tmp_path / "bad.ccall", changed(good_doc, change))
    run = companion("replay", path)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert says in run.stderr
    assert list_calls(open_store()) == []
    listed = companion("calls", "list")
    assert listed.returncode == 0 and listed.stderr == ""


def test_a_zip_bomb_is_refused_before_it_is_unpacked(good_doc, tmp_path):
    path = tmp_path / "bomb.ccall"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("call.json", json.dumps(good_doc))
        with zf.open("recording.flac", "w", force_zip64=True) as fh:
            block = bytes(16 * 1024 * 1024)
            for _ in range(64):  # 1 GiB of zeros, about 1 MB in the zip
                fh.write(block)
    assert path.stat().st_size < 3 * 1024 * 1024
    run = companion("replay", path)
    assert run.returncode == 2 and "recording.flac would unpack to 1 GiB from " in run.stderr, run.stderr
    recordings = Path(os.environ["COMPANION_DATA_DIR"]) / "recordings"
    assert not recordings.exists() or not any(recordings.iterdir())


def test_unknown_members_and_fake_audio_are_refused(good_doc, tmp_path):
    run = companion("replay", bundle(tmp_path / "extra.ccall", good_doc, run_sh=b"rm -rf ~"))
    assert run.returncode == 2 and "'run.sh'" in run.stderr
    fake = companion("replay", bundle(tmp_path / "fake.ccall", good_doc, recording_flac=b"not audio at all" * 100))
    assert fake.returncode == 2 and "recording is not audio" in fake.stderr
    assert list_calls(open_store()) == []


def test_text_from_a_bundle_is_redacted_in_every_column(good_doc, tmp_path):
    def plant(d):
        d["call"]["segments"].append({"party": "customer", "start": 1.0, "end": 3.0, "text": f"my card is {CARD}"})
        d["call"]["notes"] = f"customer card {CARD}"
        d["call"]["comments"] = [{"t": 2.0, "author": "jane@example.com", "text": f"read back {CARD}",
                                  "created_at": "2026-11-22T10:00:00+00:00"}]
        d["file"] = f"/calls/{CARD.replace(' ', '')}.wav"

    from companion.store.bundle import import_bundle

    db = open_store()
    import_bundle(db, bundle(tmp_path / "card.ccall", changed(good_doc, plant)))
    text = _all_text(db)
    assert "4111" not in text and "jane@example.com" not in text and "[card]" in text


def test_a_supervisors_message_travels_with_the_call_redacted_at_its_time(good_doc, tmp_path):
    from companion.store.bundle import import_bundle
    from companion.store.calls import load_call

    def message(d):
        d["call"]["supervisor_messages"] = [{"t": 12.5, "sender": "sue", "text": f"offer the refund, card {CARD}"}]

    db = open_store()
    cid = import_bundle(db, bundle(tmp_path / "message.ccall", changed(good_doc, message)))
    (kept,) = load_call(db, cid)["call"]["supervisor_messages"]
    assert kept["t"] == 12.5 and kept["sender"] == "sue"
    assert kept["text"].startswith("offer the refund") and "4111" not in kept["text"]
    late = changed(good_doc, lambda d: d["call"].update(
        supervisor_messages=[{"t": good_doc["duration_s"] + 60, "sender": "sue", "text": "hi"}]))
    run = companion("replay", bundle(tmp_path / "late.ccall", late))
    assert run.returncode == 2 and "call.supervisor_messages[].t must be a number" in run.stderr, run.stderr


def test_csv_exports_cannot_run_formulas_and_the_list_prints_no_control_characters(good_doc, tmp_path):
    from companion.store.bundle import import_bundle

    evil = changed(good_doc, lambda d: d["prompts"].append({"t": 3.0, "kind": "=HYPERLINK(\"http://x\")",
                                                            "reason": "@SUM(1+1)*cmd|' /C calc'!A0"}))
    db = open_store()
    cid = import_bundle(db, bundle(tmp_path / "evil.ccall", evil))
    run = companion("calls", "export", cid, "--format", "csv")
    assert run.returncode == 0
    cells = [cell for row in csv.reader(io.StringIO(run.stdout)) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert "'=HYPERLINK(\"http://x\")" in cells and "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    # a row an older version let in: printed without its escape sequences
    with db:
        db.execute("UPDATE calls SET started_at = ? WHERE id = ?", ("2026\x1b[2J\x1b]0;x\x07-01-01", cid))
    listed = companion("calls", "list")
    assert listed.returncode == 0 and "\x1b" not in listed.stdout and "\x07" not in listed.stdout


def test_import_takes_a_folder_of_shared_bundles_and_recordings_at_once(good_doc, tmp_path):
    """A supervisor loads a batch of shared calls without opening each: good ones in, a bad one named, none twice."""
    import shutil

    folder = tmp_path / "shared"
    folder.mkdir()
    bundle(folder / "a.ccall", good_doc)
    bundle(folder / "b.ccall", changed(good_doc, lambda d: d["call"].update(notes="second call", uuid=str(uuid.uuid4()))))
    bundle(folder / "broken.ccall", changed(good_doc, lambda d: d.update(duration_s="long")))
    shutil.copy(resource_path("demo/demo_call.flac"), folder / "recorded.flac")
    run = companion("import", folder)
    assert run.returncode == 1  # one was refused
    assert "a.ccall: opened as call" in run.stderr and "b.ccall: opened as call" in run.stderr
    assert "recorded.flac: imported as call" in run.stderr
    assert "broken.ccall: broken.ccall is not a valid Call Companion call bundle: duration_s must be a number" in run.stderr
    assert "3 imported, 0 already in the history, 1 not imported" in run.stderr
    again = companion("import", folder)
    assert "0 imported, 3 already in the history, 1 not imported" in again.stderr
    assert len(list_calls(open_store())) == 3
