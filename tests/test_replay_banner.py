"""The replay's banner shows what the call window showed at the playhead — the prompt or the supervisor's message of
the last few seconds, and whether storing was paused for payment there — after a seek as well as while it plays
(pytest-qt, offscreen; a call kept in the store through the recorder, as a live call is)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

SLOW_AT, PAUSED, MESSAGE_AT, LISTEN_AT, END = 10.0, (20.0, 30.0), 40.0, 50.0, 60.0


@pytest.fixture
def replay(qtbot):
    from companion.events import CallEnded, FinalSegment, MessageFromSupervisor, Prompt, StoringPaused, Turn, Word
    from companion.store.db import open_store
    from companion.store.recorder import CallRecorder
    from ui.review.replay_window import ReplayWindow

    recorder = CallRecorder("live", file="banner.flac")
    words = tuple(Word(w, 1.0 + i * 0.4, 1.3 + i * 0.4, 1.0) for i, w in enumerate("my parcel never came".split()))
    for event in (Turn("customer", 1.0, 2.6), FinalSegment("customer", 1.0, 2.5, words),
                  Turn("agent", 4.0, 15.0), Prompt(SLOW_AT, "slow_down", "230 words/min — aim for 140–160"),
                  StoringPaused(PAUSED[0], True), StoringPaused(PAUSED[1], False),
                  MessageFromSupervisor(MESSAGE_AT, "dana", "Let them finish"),
                  Prompt(LISTEN_AT, "keep_listening", "You talked over the customer for 2.1 s — let them finish"),
                  CallEnded(END, 0)):
        recorder(event)
    recorder.close()
    db = open_store()
    window = ReplayWindow.from_store(db, recorder.call_id)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
    db.close()


def shown(window) -> tuple:
    return window.banner.kind, window.banner.reason.text()


def test_after_a_seek_the_banner_shows_the_state_at_the_new_position_not_what_it_held(replay):
    from ui.banner import IDLE_TEXT
    from ui.review.replay_banner import PAUSED_TEXT

    replay.seek(SLOW_AT + 1.0)
    assert shown(replay) == ("slow_down", "230 words/min — aim for 140–160")
    replay.seek(25.0)  # inside the pause, no prompt near: the prompt is gone at once, the pause is said
    assert shown(replay) == (None, PAUSED_TEXT)
    replay.seek(MESSAGE_AT + 0.5)
    assert shown(replay) == ("supervisor", "dana: Let them finish")
    replay.seek(3.0)  # back before anything: the empty banner, not the message nor the pause
    assert shown(replay) == (None, IDLE_TEXT)
    replay.go_to_prompt(1)
    assert shown(replay)[0] == "keep_listening"
    replay.seek(SLOW_AT + 2.0)  # back from a later prompt to an earlier one's seconds
    assert shown(replay)[0] == "slow_down"
    replay.seek(SLOW_AT + 5.0)  # past its few seconds
    assert shown(replay) == (None, IDLE_TEXT)


def test_while_it_plays_the_banner_says_the_pause_as_the_playhead_enters_and_leaves_it(replay, qtbot):
    from ui.banner import IDLE_TEXT
    from ui.review.replay_banner import PAUSED_TEXT

    replay.speed.setCurrentIndex(2)  # 2x
    replay.seek(PAUSED[0] - 0.3)
    assert shown(replay) == (None, IDLE_TEXT)
    qtbot.mouseClick(replay.play, Qt.LeftButton)
    qtbot.waitUntil(lambda: replay.position > PAUSED[0] + 0.1, timeout=5000)
    assert shown(replay) == (None, PAUSED_TEXT)
    replay.seek(PAUSED[1] - 0.3)
    qtbot.waitUntil(lambda: replay.position > PAUSED[1] + 0.1, timeout=5000)
    assert shown(replay) == (None, IDLE_TEXT)
    qtbot.mouseClick(replay.play, Qt.LeftButton)


def test_the_banner_at_a_position_is_the_last_few_seconds_and_the_pause_there():
    from ui.banner import IDLE_TEXT
    from ui.review.replay_banner import HOLD_S, PAUSED_TEXT, banner_at

    doc = {"duration_s": 60.0, "prompts": [{"t": 10.0, "kind": "slow_down", "reason": "fast"},
                                           {"t": 12.0, "kind": "lower_tone", "reason": "loud"}],
           "call": {"pauses": [{"start": 11.0, "end": 20.0}], "supervisor_messages": []}}
    assert banner_at(doc, 9.9).kind is None and banner_at(doc, 9.9).idle_text == IDLE_TEXT
    assert banner_at(doc, 10.0).kind == "slow_down" and banner_at(doc, 11.5).idle_text == PAUSED_TEXT
    assert banner_at(doc, 13.0).kind == "lower_tone"  # the latest one
    assert banner_at(doc, 12.0 + HOLD_S).kind is None and banner_at(doc, 12.0 + HOLD_S).idle_text == PAUSED_TEXT
    assert banner_at(doc, 20.0).idle_text == IDLE_TEXT  # resumed
