"""Saved calls: a full round trip, migration, search, redaction, crash safety, exports and import."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import soundfile as sf

from companion.events import CallEnded, FinalSegment, Prompt, Word
from companion.reports.export import FORMATS, export
from companion.store.calls import list_calls, load_call, search
from companion.store.db import open_store
from companion.store.recorder import CallRecorder
from companion.store.redaction import redact
from companion.store.schema import V1, VERSION
from tests import scenarios
from tests.installed import OUTSIDE
from tests.test_cli import SCHEMA

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def companion(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ui", *map(str, args)], capture_output=True, text=True,
                          env=env or dict(os.environ), cwd=OUTSIDE, timeout=300)


def said(party, text, t):
    words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def test_a_full_call_round_trips_through_the_store(make_call):
    wav, _ = make_call(scenarios.interrupter())
    saved = companion("analyze", wav, "--json", "--model", "none", "--save")
    assert saved.returncode == 0, saved.stderr
    analysed = json.loads(saved.stdout)
    db = open_store()
    [entry] = list_calls(db)
    doc = load_call(db, entry["id"])
    jsonschema.validate({k: v for k, v in doc.items() if k != "call"}, SCHEMA)
    for key in ("duration_s", "agent_wpm", "agent_talk_ratio", "longest_agent_monologue_s", "interruptions", "prompts"):
        assert doc[key] == pytest.approx(analysed[key], abs=0.05) if isinstance(doc[key], float) else doc[key] == analysed[key], key
    assert [(t["party"], t["start"], t["end"]) for t in doc["turns"]] == [(t["party"], t["start"], t["end"]) for t in analysed["turns"]]
    assert entry["status"] == "complete" and entry["prompts"] == len(analysed["prompts"])
    listed = json.loads(companion("calls", "list", "--json").stdout)
    assert listed == [entry] and set(listed[0]) == {"id", "started_at", "duration_s", "status", "prompts", "customer_mood",
                                                    "upset_s"}
    assert doc["customer_states"] == analysed["customer_states"]


def test_the_store_is_owner_only(data_dir):
    open_store().close()
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data_dir / "calls.sqlite3").st_mode) == 0o600


def test_a_first_version_store_is_migrated_and_its_text_becomes_searchable(data_dir):
    data_dir.mkdir(parents=True)
    old = sqlite3.connect(str(data_dir / "calls.sqlite3"))
    old.executescript(V1 + "PRAGMA user_version = 1;")
    old.execute("INSERT INTO calls(id, started_at, source, status) VALUES (1, '2026-01-02T10:00:00+00:00', 'live', 'complete')")
    old.execute("INSERT INTO segments(call_id, party, start, \"end\", text) VALUES (1, 'customer', 1, 3, 'my parcel never arrived')")
    old.commit()
    old.close()
    db = open_store()
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    assert search(db, "parcel") == [1] and search(db, "refund") == []
    assert list_calls(db)[0]["status"] == "complete"


def test_a_fourth_version_store_is_migrated_with_no_customer_states(data_dir):
    from companion.events import CustomerState
    from companion.store.schema import MIGRATIONS

    data_dir.mkdir(parents=True)
    old = sqlite3.connect(str(data_dir / "calls.sqlite3"))
    old.executescript("".join(MIGRATIONS[:4]) + "PRAGMA user_version = 4;")
    old.execute("INSERT INTO calls(id, started_at, source, status, duration_s) VALUES (1, '2026-01-02T10:00:00+00:00', 'live', "
                "'complete', 60)")
    old.execute("INSERT INTO prompts(call_id, t, kind, reason) VALUES (1, 12, 'slow_down', '190 words/min')")
    old.execute('INSERT INTO pauses(call_id, start, "end") VALUES (1, 20, 30)')
    old.commit()
    old.close()
    db = open_store()
    assert db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    doc = load_call(db, 1)
    assert doc["customer_states"] == [] and doc["call"]["pauses"] == [{"start": 20.0, "end": 30.0}]
    assert [(c["customer_mood"], c["upset_s"]) for c in list_calls(db)] == [(None, None)]
    assert search(db, upset=True) == [] and search(db, upset=False) == [1]
    assert "mood-span" in export(doc, "html") and "customer_state" not in export(doc, "csv")
    recorder = CallRecorder("live")  # the migrated store takes new calls with their states
    for event in (CustomerState(4.0, "calm"), CustomerState(10.0, "upset"), CallEnded(16.0, 0)):
        recorder(event)
    recorder.close()
    assert load_call(db, recorder.call_id)["customer_states"] == [{"t": 4.0, "state": "calm"}, {"t": 10.0, "state": "upset"}]
    assert search(db, upset=True) == [recorder.call_id]


def test_full_text_search_and_filters():
    recorder = CallRecorder("live")
    for event in (said("customer", "the coffee machine never arrived", 2.0), said("agent", "I will send a replacement", 5.0),
                  Prompt(6.0, "slow_down", "180 words/min"), CallEnded(10.0, 0)):
        recorder(event)
    recorder.close()
    other = CallRecorder("live")
    other(said("customer", "I want a refund", 1.0))
    other.close()  # no CallEnded: as if the app died
    db = open_store()  # reopening closes the unfinished call as interrupted
    assert search(db, "replacement") == [recorder.call_id]
    assert search(db, "coffee machine") == [recorder.call_id]
    assert search(db, kind="slow_down") == [recorder.call_id]
    assert search(db, interrupted=True) == [other.call_id]
    assert {c["id"]: c["status"] for c in list_calls(db)} == {recorder.call_id: "complete", other.call_id: "interrupted"}


@pytest.mark.parametrize("text,expected", [
    ("my card is 4111 1111 1111 1111 thanks", "my card is [card] thanks"),
    ("card 4111-1111-1111-1111", "card [card]"),
    ("not a card 4111 1111 1111 1112", "not a card [number]"),       # fails Luhn: still a long run of digits
    ("order 12345 shipped", "order 12345 shipped"),                   # short numbers stay
    ("account 987654321", "account [account]"),
    ("write to jane.doe+calls@example.co.uk today", "write to [email] today"),
    ("call me on +44 20 7946 0958", "call me on [phone]"),
    ("or (555) 123-4567 after five", "or [phone] after five"),
    ("model ab1234567cd is fine", "model ab1234567cd is fine"),       # digits inside a word are not a number
    ("room 2 at 3 pm", "room 2 at 3 pm"),
])
def test_redaction(text, expected):
    assert redact(text) == expected


def test_stored_text_is_redacted():
    recorder = CallRecorder("live")
    recorder(said("customer", "my email is jane@example.com and card 4111 1111 1111 1111", 1.0))
    recorder.close()
    db = open_store()
    text = db.execute("SELECT text FROM segments").fetchone()[0]
    assert "jane" not in text and "4111" not in text and "[email]" in text and "[card]" in text
    assert not db.execute("SELECT 1 FROM words WHERE word LIKE '%@%'").fetchall()


def test_a_killed_app_loses_at_most_the_last_second_and_the_call_is_closed_as_interrupted(data_dir):
    script = (
        "import time, sys\n"
        "from companion.config import load_config\n"
        "from companion.playbooks import find_playbook\n"
        "from companion.resources import resource_path\n"
        "from companion.session import CallSession\n"
        "from companion.store.recorder import CallRecorder\n"
        "s = CallSession(load_config(use_user_default=False), find_playbook(None))\n"
        "r = CallRecorder('demo')\n"
        "s.bus.subscribe(r)\n"
        "s.start_demo(resource_path('demo/demo_call.flac'), speed=6.0)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=OUTSIDE, env=dict(os.environ), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(10.5)  # about 63 s of the call at 6x: after the demo's talk-over (0:52-0:58) has ended
    killed_at_call_time = 10.5 * 6.0
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = open_store()
    [call] = list_calls(db)
    assert call["status"] == "interrupted"
    doc = load_call(db, call["id"])
    assert doc["turns"] and doc["prompts"] and doc["interruptions"]
    last_metric = db.execute("SELECT MAX(t) FROM metrics").fetchone()[0]
    assert killed_at_call_time - last_metric <= 6.0 * 1.0 + 2.0  # at most a second of wall time (6 s of call) plus slack


def test_exports_of_a_saved_call(make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    assert companion("analyze", wav, "--model", "none", "--save").returncode == 0
    call_id = json.loads(companion("calls", "list", "--json").stdout)[0]["id"]
    outputs = {}
    for fmt in FORMATS:
        run = companion("calls", "export", call_id, "--format", fmt, "--output", tmp_path / f"c.{fmt}")
        assert run.returncode == 0, run.stderr
        outputs[fmt] = (tmp_path / f"c.{fmt}").read_text()
    assert json.loads(outputs["json"])["call"]["id"] == call_id
    assert outputs["srt"].startswith("1\n00:00:00,") and " --> " in outputs["srt"] and "Agent: " in outputs["srt"]
    assert outputs["vtt"].startswith("WEBVTT") and "<v Customer>" in outputs["vtt"]
    assert outputs["csv"].splitlines()[0] == "t,type,kind_or_by,reason_or_overlap_s" and "keep_listening" in outputs["csv"]
    assert "<svg" in outputs["html"] and "keep_listening" in outputs["html"] and "Call %d" % call_id in outputs["html"]
    assert "Agent:" in outputs["txt"]
    missing = companion("calls", "show", 999)
    assert missing.returncode == 2 and "No saved call 999" in missing.stderr


def test_import_of_a_folder_with_good_duplicate_and_broken_files(make_call, tmp_path):
    folder = tmp_path / "recordings"
    (folder / "sub").mkdir(parents=True)
    wav, _ = make_call(scenarios.customer_interrupts())
    (folder / "a.wav").write_bytes(wav.read_bytes())
    (folder / "sub" / "same-as-a.wav").write_bytes(wav.read_bytes())  # a duplicate by content
    data, rate = sf.read(str(wav))
    sf.write(str(folder / "b.flac"), data[: rate * 15], rate)
    (folder / "broken.wav").write_bytes(b"RIFF....not audio")
    sf.write(str(folder / "silent.wav"), np.zeros((rate * 2, 2)), rate)
    run = companion("import", folder, "--recursive")
    assert run.returncode == 1  # some files could not be read: said, and the batch still finished
    assert "2 imported, 1 already in the history, 2 not imported" in run.stderr
    assert "broken.wav: " in run.stderr and "silent.wav: No speech found" in run.stderr
    again = companion("import", folder, "--recursive")
    assert "0 imported, 3 already in the history" in again.stderr
    calls = json.loads(companion("calls", "list", "--json").stdout)
    assert len(calls) == 2 and all(c["status"] == "complete" for c in calls)
