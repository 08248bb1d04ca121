"""History and supervisor replay (pytest-qt, offscreen), recorded audio, and call bundles."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import soundfile as sf
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402

from companion.store.db import open_store  # noqa: E402
from companion.timeline import clock  # noqa: E402
from tests import scenarios  # noqa: E402
from tests.commands import companion

WAIT_MS = 20_000  # History's searches are background tasks: generous for a loaded machine

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def saved(make_call, store_template):
    """The interrupter call saved (`companion analyze --save`, once a session) in this test's store;
    returns (db, call id, truth)."""
    wav, truth = make_call(scenarios.interrupter())

    def save(data: Path) -> None:
        run = companion("analyze", wav, "--model", "none", "--save", extra_env={"COMPANION_DATA_DIR": str(data)})
        assert run.returncode == 0, run.stderr

    store_template("interrupter-saved", save)
    db = open_store()
    return db, db.execute("SELECT MAX(id) FROM calls").fetchone()[0], truth


def test_replay_markers_sit_at_the_prompt_times(qtbot, saved):
    from ui.review.replay_window import ReplayWindow

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
    from ui.review.replay_window import ReplayWindow

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
    from ui.review.replay_window import ReplayWindow

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
    assert [m for m in _moment_texts(reopened) if "Comment" in m] == [
        f"{clock(first + 1.0)}  Comment (supervisor): Good catch: let the customer finish here"]


def _moment_texts(window) -> list[str]:
    return [window.moments.item(n).text() for n in range(window.moments.count())]


def _moment_times(window) -> list[float]:
    return [window.moments.item(n).data(Qt.UserRole)[0] for n in range(window.moments.count())]


def test_the_replay_timeline_labels_its_time_axis_in_mm_ss_and_every_prompt_kind_in_the_legend(qtbot, saved):
    from companion.prompt_kinds import prompt_kind
    from companion.timeline import tick_step
    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    qtbot.waitExposed(window)
    timeline = window.timeline
    ticks = timeline.tick_labels()
    assert len(ticks) >= 3 and ticks[0][1] == "00:00"
    assert all(re.fullmatch(r"\d\d:\d\d", text) for _, text in ticks)
    seconds = [int(text[:2]) * 60 + int(text[3:]) for _, text in ticks]
    step = seconds[1] - seconds[0]
    assert step in (1, 2, 5, 10, 15, 30, 60) and seconds == list(range(0, seconds[-1] + 1, step))
    assert step == tick_step(window.doc["duration_s"], max(2, int(timeline.plot_width() // 70)))
    assert [x for x, _ in ticks] == sorted(x for x, _ in ticks) and timeline.t(ticks[-1][0]) <= window.doc["duration_s"]
    legend = {e.label: e.colour for e in timeline.legend_entries()}
    kinds = {p["kind"] for p in window.doc["prompts"]}
    assert kinds and all(legend[prompt_kind(k).label] == prompt_kind(k).colour for k in kinds)
    assert "Interruption" in legend and "Pace (words/min)" in legend  # the interrupter is interrupted, and has pace
    assert [label for _, _, label in timeline.legend_layout()] == list(legend)  # all fit at this width: none elided
    labels = timeline.marker_labels()
    assert [(l.index, l.text) for l in labels] == [(n, prompt_kind(p["kind"]).label) for n, p in enumerate(window.doc["prompts"])]
    image = timeline.grab().toImage()
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 5)}) > 20
    for x, kind in timeline.marker_positions():  # each marker's stem is drawn in its kind's colour
        stem = {image.pixelColor(int(x) + dx, timeline.LABEL_TOP - 3).name() for dx in (-1, 0, 1)}
        assert prompt_kind(kind).colour in stem


def test_prompt_labels_never_overlap_on_a_crowded_timeline(qtbot):
    from companion.prompt_kinds import KINDS, prompt_kind
    from ui.review.replay_timeline import Timeline

    kinds = [*KINDS, "a_kind_from_a_newer_version"]
    prompts = [{"t": 5 + n * 1.7, "kind": kinds[n % len(kinds)], "reason": ""} for n in range(20)] + [
        {"t": 119.5, "kind": "slow_down", "reason": ""}]
    doc = {"duration_s": 120.0, "prompts": prompts, "turns": [], "interruptions": [], "pace": [],
           "call": {"comments": [], "segments": []}}
    timeline = Timeline(doc)
    qtbot.addWidget(timeline)
    timeline.resize(700, timeline.minimumHeight())
    labels = timeline.marker_labels()
    assert len(labels) == len(prompts)
    shown = [l for l in labels if l.text]
    assert len(shown) >= 6 and shown[-1].text == "Slow down" and shown[-1].rect.right() <= timeline.width()
    for label in shown:
        full = prompt_kind(prompts[label.index]["kind"]).label
        assert label.text == full or (label.text.endswith("…") and full.startswith(label.text[:-1]))
        for other in labels:
            if other is label:
                continue
            assert not (other.row == label.row and other.rect.intersects(label.rect))
            # a stem runs from the lanes down to its own label's row: never through another label
            assert not (other.row >= label.row and label.rect.left() <= other.x <= label.rect.right())
    assert "A kind from a newer version" in [e.label for e in timeline.legend_entries()]


def test_clicking_a_prompt_marker_jumps_to_that_prompt(qtbot, saved):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    timeline = window.timeline
    lane_y = timeline.LANES["customer"] + 4
    for n, (x, kind) in enumerate(timeline.marker_positions()):
        QTest.mouseClick(timeline, Qt.LeftButton, Qt.NoModifier, QPoint(round(x) + 2, lane_y))  # a few pixels off
        assert window.position == window.doc["prompts"][n]["t"] and window.banner.kind == kind
    markers = [x for x, _ in timeline.marker_positions()]
    x = max(range(timeline.LEFT, timeline.width() - timeline.RIGHT, 5), key=lambda x: min(abs(x - m) for m in markers))
    QTest.mouseClick(timeline, Qt.LeftButton, Qt.NoModifier, QPoint(x, lane_y))  # away from every marker
    assert window.position == pytest.approx(timeline.t(x)) and window.clock.text() == clock(timeline.t(x))


def test_the_list_beside_the_transcript_holds_prompts_and_comments_in_time_order_and_clicking_one_seeks(qtbot, saved):
    from PySide6.QtWidgets import QSplitter

    from companion.prompt_kinds import prompt_kind
    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.resize(1100, 760)
    window.show()
    splitter = window.findChild(QSplitter)
    assert splitter.orientation() == Qt.Horizontal
    assert splitter.widget(0).isAncestorOf(window.transcript) and splitter.widget(1).isAncestorOf(window.moments)
    prompts = window.doc["prompts"]
    window.seek(prompts[0]["t"] + 3.0)
    window.comment.setText("Ask before you explain")
    qtbot.mouseClick(window.add_comment, Qt.LeftButton)
    window.seek(0.5)
    window.comment.setText("A <b>calm</b> opening")
    qtbot.keyClick(window.comment, Qt.Key_Return)
    texts, times = _moment_texts(window), _moment_times(window)
    assert len(texts) == len(prompts) + 2 and times == sorted(times)
    assert texts[0] == "00:00  Comment (supervisor): A <b>calm</b> opening"  # a new comment is listed at once, as written
    assert f"{clock(prompts[0]['t'] + 3.0)}  Comment (supervisor): Ask before you explain" in texts
    for p in prompts:
        assert f"{clock(p['t'])}  {prompt_kind(p['kind']).label} — {p['reason']}" in texts
    last = window.moments.item(window.moments.count() - 1)
    qtbot.mouseClick(window.moments.viewport(), Qt.LeftButton, pos=window.moments.visualItemRect(last).center())
    assert window.position == pytest.approx(last.data(Qt.UserRole)[0])
    window.moments.scrollToTop()
    first = window.moments.item(0)
    qtbot.mouseClick(window.moments.viewport(), Qt.LeftButton, pos=window.moments.visualItemRect(first).center())
    assert window.position == pytest.approx(0.5)
    assert not window.findChildren(type(window.moments))[2:]  # the transcript and this list: no empty pane below


def test_a_call_without_a_transcript_shows_who_spoke_and_for_how_long(qtbot, saved):
    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    turns = window.doc["turns"]
    assert window.doc["call"]["segments"] == [] and window.transcript.count() == len(turns) >= 4
    for n, turn in enumerate(turns):
        text = window.transcript.item(n).text()
        match = re.fullmatch(r"(\d\d:\d\d)   (Agent|Customer) spoke for ([\d.]+) s", text)
        assert match, text
        assert match[1] == clock(turn["start"]) and match[2].lower() == turn["party"]
        assert float(match[3]) == pytest.approx(turn["end"] - turn["start"], abs=0.51)
    assert {window.transcript.item(n).text().split()[1] for n in range(len(turns))} == {"Agent", "Customer"}


def test_history_lists_searches_and_filters(qtbot, saved, make_call):
    from ui.review.history_window import HistoryWindow

    db, call_id, _ = saved
    wav, _ = make_call(scenarios.calm_call())
    assert companion("analyze", wav, "--model", "none", "--save").returncode == 0
    history = HistoryWindow()
    qtbot.addWidget(history)
    qtbot.waitUntil(lambda: not history.searching, timeout=WAIT_MS)  # the search runs off the GUI thread
    assert len(history.shown_ids) == 2
    with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
        history.kind.setCurrentIndex(history.kind.findData("keep_listening"))
    assert history.shown_ids == [call_id]  # the calm call has no prompts
    with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
        history.kind.setCurrentIndex(0)
    with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
        history.interrupted.setChecked(True)
    assert history.shown_ids == []
    with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
        history.interrupted.setChecked(False)
    history.table.selectRow(history.shown_ids.index(call_id))
    with qtbot.waitSignal(history.opened, timeout=WAIT_MS) as opened:
        history.open_selected()  # the call is read off the GUI thread; its window opens when it is in
    replay = opened.args[0]
    qtbot.addWidget(replay)
    assert replay.doc["call"]["id"] == call_id and replay.prompt_ids and history.replays == [replay]


def test_a_recording_that_cannot_be_read_is_said_and_the_prompts_replay_without_it(qtbot, saved, tmp_path):
    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    broken = tmp_path / "call.flac"
    broken.write_bytes(b"not audio at all")
    window.recording = broken
    window.toggle()  # Play: the recording is read off the GUI thread
    qtbot.waitUntil(lambda: window.recording is None, timeout=WAIT_MS)
    assert window.banner.kind == "device" and "Cannot play the recording" in window.banner.reason.text()
    assert window.play.text() == "Pause"  # the prompts go on replaying in time
    window.toggle()


def test_a_history_whose_store_cannot_be_opened_says_why_in_one_line(qtbot, tmp_path):
    from ui.review.history_window import HistoryWindow

    not_a_folder = tmp_path / "calls-folder"
    not_a_folder.write_text("a file where the store's folder should be")
    history = HistoryWindow(not_a_folder / "calls.sqlite3")
    qtbot.addWidget(history)
    with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
        pass
    assert history.shown_ids == [] and not history.searching
    assert history.status.text().startswith("Cannot open the call store in") and "\n" not in history.status.text()


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
    demo_s = sf.info(str(resource_path("demo/demo_call.flac"))).duration
    assert info.channels == 2 and info.samplerate == 16000 and info.duration == pytest.approx(demo_s, abs=0.6)
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
    from ui.review.replay_window import ReplayWindow

    window = ReplayWindow.from_store(db, new_id)
    qtbot.addWidget(window)
    assert window.recording is not None and len(window.timeline.marker_positions()) == len(doc_prompts)


def test_a_file_that_is_not_a_bundle_is_a_clear_error(tmp_path):
    (tmp_path / "x.ccall").write_text("nope")
    run = companion("replay", tmp_path / "x.ccall")
    assert run.returncode == 2 and "is not a Call Companion call bundle" in run.stderr


def test_a_pause_for_payment_shows_as_a_paused_span_on_the_replay_timeline(qtbot, saved):
    from companion.timeline import PAUSE_COLOUR
    from ui.review.replay_window import ReplayWindow

    db, call_id, _ = saved
    with db:
        db.execute('INSERT INTO pauses(call_id, start, "end") VALUES (?, 4.0, 9.0)', (call_id,))
    window = ReplayWindow.from_store(db, call_id)
    qtbot.addWidget(window)
    window.resize(1000, 600)
    window.show()
    timeline = window.timeline
    assert "Paused for payment" in [e.label for e in timeline.legend_entries()]
    image = timeline.grab().toImage()
    y = timeline.LANES["agent"] - 1  # just above the agent's lane: only the band is drawn there
    inside, outside = image.pixelColor(int(timeline.x(6.5)), y), image.pixelColor(int(timeline.x(12.0)), y)
    grey = QColor(PAUSE_COLOUR)
    assert abs(inside.red() - grey.red()) < 40 and inside != outside
