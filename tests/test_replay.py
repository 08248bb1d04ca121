"""History and supervisor replay (pytest-qt, offscreen), recorded audio, and call bundles."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf



from PySide6.QtCore import Qt  # noqa: E402

from companion.store.db import open_store  # noqa: E402
from tests.installed import OUTSIDE
from tests import scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def companion(*args):
    return subprocess.run([sys.executable, "-m", "companion", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ), cwd=OUTSIDE, timeout=300)


@pytest.fixture
def saved(make_call):
    """The interrupter call saved in this test's store; returns (db, call id, truth)."""
    wav, truth = make_call(scenarios.interrupter())
    assert companion("analyze", wav, "--model", "none", "--save").returncode == 0
    db = open_store()
    return db, db.execute("SELECT MAX(id) FROM calls").fetchone()[0], truth


def test_replay_markers_sit_at_the_prompt_times(qtbot, saved):
    from ui.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.resize(1000, 600)
    window.show()
    markers = window.timeline.marker_positions()
    prompts = window.doc["prompts"]
    assert len(markers) == len(prompts) >= 1
    for (x, kind), p in zip(markers, prompts):
        assert kind == p["kind"] and abs(window.timeline.t(x) - p["t"]) < 0.01


def test_the_transcript_follows_the_playhead_and_next_prompt_jumps(qtbot, saved):
    from ui.replay_window import ReplayWindow

    db, call_id, truth = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.show()
    target = truth.utterances[3].start + 0.5
    window.seek(target)
    line = window.lines[window.transcript.currentRow()]
    assert line["start"] <= target and all(l["start"] > target for l in window.lines[window.transcript.currentRow() + 1:])
    first = window.jump_prompt(+1)
    assert first == window.doc["prompts"][0]["t"] and window.position == first
    assert window.banner.kind == window.doc["prompts"][0]["kind"]
    window.seek(0)
    qtbot.mouseClick(window.play, Qt.LeftButton)  # no recording: the prompts replay in time
    window.speed.setCurrentIndex(2)  # 2x
    window.seek(first - 0.3)
    window._last_tick -= 0.0
    qtbot.waitUntil(lambda: window.position > first + 0.1, timeout=5000)
    assert window.banner.kind == window.doc["prompts"][0]["kind"]
    qtbot.mouseClick(window.play, Qt.LeftButton)


def test_a_supervisor_comment_is_saved_with_its_prompt(qtbot, saved):
    from ui.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    first = window.jump_prompt(+1)
    window.seek(first + 1.0)
    window.comment.setText("Good catch: let the customer finish here")
    qtbot.mouseClick(window.add_comment, Qt.LeftButton)
    row = db.execute("SELECT t, prompt_id, text FROM comments WHERE call_id = ?", (call_id,)).fetchone()
    prompt_id = db.execute("SELECT id FROM prompts WHERE call_id = ? ORDER BY t", (call_id,)).fetchone()[0]
    assert row["text"] == "Good catch: let the customer finish here" and row["prompt_id"] == prompt_id
    assert row["t"] == pytest.approx(first + 1.0)
    reopened = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(reopened)
    assert reopened.comments.count() == 1


def test_history_lists_searches_and_filters(qtbot, saved, make_call):
    from ui.history_window import HistoryWindow

    db, call_id, _ = saved
    wav, _ = make_call(scenarios.calm_call())
    assert companion("analyze", wav, "--model", "none", "--save").returncode == 0
    history = HistoryWindow(open_store())
    qtbot.addWidget(history)
    assert len(history.shown_ids) == 2
    history.kind.setCurrentIndex(history.kind.findData("keep_listening"))
    assert history.shown_ids == [call_id]  # the calm call has no prompts
    history.kind.setCurrentIndex(0)
    history.interrupted.setChecked(True)
    assert history.shown_ids == []
    history.interrupted.setChecked(False)
    history.table.selectRow(history.shown_ids.index(call_id))
    replay = history.open_selected()
    qtbot.addWidget(replay)
    assert replay.doc["call"]["id"] == call_id


def test_recorded_audio_is_kept_owner_only_and_a_bundle_carries_it(tmp_path, qtbot, monkeypatch):
    from companion.config import load_config
    from companion.playbooks import find_playbook
    from companion.resources import resource_path
    from companion.session import CallSession
    from companion.store.recorder import CallRecorder

    config = load_config(use_user_default=False)
    session = CallSession(config, find_playbook(None))
    recorder = CallRecorder("demo")
    session.bus.subscribe(recorder)
    path = recorder.record_audio(session.pipeline, config.audio.sample_rate)
    session.start_demo(resource_path("demo/demo_call.flac"), speed=20.0)
    assert session.ended.wait(30)
    recorder.close()
    info = sf.info(str(path))
    assert info.channels == 2 and info.samplerate == 16000 and info.duration == pytest.approx(94.5, abs=0.6)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    bundle = tmp_path / "shared.ccall"
    run = companion("calls", "export", recorder.call_id, "--format", "bundle", "--output", bundle)
    assert run.returncode == 0, run.stderr
    # on the supervisor's machine (another data folder)
    from companion.store.bundle import import_bundle

    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "supervisor"))
    db = open_store()
    new_id = import_bundle(db, bundle)
    doc_prompts = [dict(r) for r in db.execute("SELECT t, kind FROM prompts WHERE call_id = ?", (new_id,))]
    recording = db.execute("SELECT recording FROM calls WHERE id = ?", (new_id,)).fetchone()[0]
    assert doc_prompts and Path(recording).is_file() and str(tmp_path / "supervisor") in recording
    from ui.replay_window import ReplayWindow

    window = ReplayWindow.from_store(db, new_id)
    qtbot.addWidget(window)
    assert window.recording is not None and len(window.timeline.marker_positions()) == len(doc_prompts)


def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path):
    (tmp_path / "x.ccall").write_text("nope")
    run = companion("replay", tmp_path / "x.ccall")
    assert run.returncode == 2 and "is not a Call Companion call bundle" in run.stderr
