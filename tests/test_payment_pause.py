"""Pause for payment: while the customer reads out card details nothing said is stored (text or audio),
the timeline keeps a "paused" span, and coaching from the sound goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

from companion.config import load_config
from companion.demo import demo_recording, demo_script
from companion.events import MetricsSnapshot, Prompt, StoringPaused
from companion.payment_pause import PauseSpans
from companion.session import CallSession
from companion.store.calls import load_call, search
from companion.store.db import open_store
from tests.installed import OUTSIDE

PAUSE_AT, RESUME_AT = 20.0, 43.0  # the customer's second turn (20.9–31.8 s) is said inside the pause, and slow_down comes


def test_nothing_said_during_a_pause_for_payment_is_stored_and_coaching_goes_on(tmp_path):
    config = load_config(use_user_default=False)
    session = CallSession(config)
    recorder = session.keep("live", record_audio=True)
    prompts = []

    def pilot(event):
        if isinstance(event, Prompt):
            prompts.append(event)
        if isinstance(event, MetricsSnapshot):
            if event.t >= PAUSE_AT and not session.storing_paused and event.t < RESUME_AT:
                session.pause_storing(True)
            elif event.t >= RESUME_AT and session.storing_paused:
                session.pause_storing(False)

    session.bus.subscribe(pilot)
    session.start_demo(demo_recording(), speed=10.0, script=demo_script())
    assert session.ended.wait(60)
    db = open_store()
    doc = load_call(db, recorder.call_id)
    [pause] = doc["call"]["pauses"]
    assert PAUSE_AT <= pause["start"] < PAUSE_AT + 1.5 and RESUME_AT <= pause["end"] < RESUME_AT + 1.5
    said_inside = next(line for line in demo_script().lines if line.party == "customer" and line.start > PAUSE_AT)
    stored = [s for s in doc["call"]["segments"]]
    assert stored and not any(pause["start"] <= s["start"] <= pause["end"] or pause["start"] <= s["end"] <= pause["end"]
                              for s in stored)
    assert not search(db, text="twice")  # "I checked with the front desk twice…", said inside the pause
    assert "twice" in said_inside.text and "twice" not in " ".join(s["text"] for s in stored)
    words = db.execute('SELECT COUNT(*) FROM words JOIN segments ON segments.id = words.segment_id WHERE '
                       'segments.call_id = ? AND words.start BETWEEN ? AND ?', (recorder.call_id, pause["start"], pause["end"]))
    assert words.fetchone()[0] == 0
    audio, rate = sf.read(doc_recording(db, recorder.call_id), dtype="float32")
    inside = audio[int((pause["start"] + 0.2) * rate):int((pause["end"] - 0.2) * rate)]
    assert inside.size and not np.any(inside)  # silence where the card would have been
    assert np.any(audio[int(16 * rate):int(19.5 * rate)])  # and the call's audio before it
    assert any(pause["start"] <= p.t <= pause["end"] for p in prompts), [(p.t, p.kind) for p in prompts]
    assert [p["kind"] for p in doc["prompts"]] == [p.kind for p in prompts]


def doc_recording(db, call_id):
    return db.execute("SELECT recording FROM calls WHERE id = ?", (call_id,)).fetchone()[0]


def test_pauses_are_spans_on_the_call_clock_and_a_second_click_changes_nothing():
    spans = PauseSpans()
    assert spans.apply(StoringPaused(10.0, True)) and not spans.apply(StoringPaused(11.0, True))
    assert spans.paused and spans.covers(50.0) and not spans.covers(9.0)
    assert spans.apply(StoringPaused(20.0, False)) and not spans.paused
    assert spans.spans() == [(10.0, 20.0)] and spans.covers(19.0, 25.0) and not spans.covers(20.5, 30.0)
    assert spans.kept(["a", "b", "c"], [(8.0, 9.0), (9.5, 10.5), (21.0, 22.0)]) == ["a", "c"]


def test_companion_live_pauses_and_resumes_on_sigusr1(softphone, tmp_path):
    events_path = tmp_path / "events.jsonl"
    env = dict(softphone, COMPANION_CONFIG_DIR=str(tmp_path / "cfg"), COMPANION_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "ui", "live", "--agent-device", "agent_mic.monitor",
                             "--customer-device", "softphone.monitor", "--model", "none", "--events-jsonl",
                             str(events_path), "--duration", "6"],
                            env=env, cwd=OUTSIDE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while time.time() < deadline and not (events_path.exists() and '"call_start"' in events_path.read_text()):
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGUSR1)
    time.sleep(1.5)
    proc.send_signal(signal.SIGUSR1)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    pauses = [e for e in map(json.loads, events_path.read_text().splitlines()) if e["type"] == "pause"]
    assert [p["paused"] for p in pauses] == [True, False] and 1.0 < pauses[1]["t"] - pauses[0]["t"] < 2.5
    assert "paused for payment: nothing said is stored" in err.lower() and "storing again" in err.lower()
    os.environ["COMPANION_DATA_DIR"] = env["COMPANION_DATA_DIR"]
    db = open_store()
    call_id = db.execute("SELECT MAX(id) FROM calls").fetchone()[0]
    [span] = load_call(db, call_id)["call"]["pauses"]
    assert span["start"] == pauses[0]["t"] and span["end"] == pauses[1]["t"]


def test_the_events_file_leaves_out_personal_data_and_what_was_said_in_a_pause(tmp_path):
    from companion.event_json import JsonlWriter
    from companion.events import FinalSegment, PartialText, Word

    def said(text, t):
        words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
        return FinalSegment("customer", words[0].start, words[-1].end, words)

    path = tmp_path / "events.jsonl"
    writer = JsonlWriter(str(path), redaction=True)
    writer(said("my card is four one one one one one one one one one one one one one one one", 1.0))
    writer(PartialText("customer", 8.0, "call me on oh two oh seven nine four six oh nine five eight"))
    writer(StoringPaused(10.0, True))
    writer(said("the code on the back is one two three", 11.0))
    writer(StoringPaused(20.0, False))
    writer(said("thank you", 21.0))
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    text = " ".join(e.get("text", "") for e in lines)
    assert "four one one one" not in text and "[card]" in text and "oh two oh seven" not in text
    assert "code on the back" not in text and "thank you" in text
    assert [e["paused"] for e in lines if e["type"] == "pause"] == [True, False]
