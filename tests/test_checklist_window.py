"""The checklist in the window follows the call: the step the conversation is at is highlighted (not the first
step left open), the steps the call's flow does say so, and the summary gives the call's adherence, with the
root-cause note doing the after-call step (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from companion.config import load_config
from companion.events import StepTicked
from companion.playbooks import all_playbooks, find_playbook
from ui.call.checklist_panel import ChecklistPanel
from ui.call.summary_dialog import SummaryDialog

UNHAPPY = "unhappy-customer"


def tick(t: float, step_id: str, phrase=None, source="auto", done=True) -> StepTicked:
    return StepTicked(t, step_id, find_playbook(UNHAPPY).step(step_id).title, source, phrase, done)


@pytest.fixture
def panel(qtbot):
    p = ChecklistPanel(find_playbook(UNHAPPY), lambda step_id, done: None)
    qtbot.addWidget(p)
    p.show()
    return p


def test_the_highlighted_step_is_where_the_conversation_is(panel):
    texts = [panel.steps.item(n).text() for n in range(panel.steps.count())]
    assert texts[0] == "1. Adjust your mindset (as the call begins)" and texts[-1] == "7. Use the feedback (after the call)"
    assert panel.current == "mindset" and "Take a breath" in panel.tips.text()  # before the call: its opening state
    panel.apply(tick(0.5, "mindset"))
    assert panel.current == "listen" and "Done as the call began" in panel.item("mindset").toolTip()
    panel.apply(tick(9.0, "listen", "mm hmm"))
    panel.apply(tick(25.0, "empathise", "i am sorry"))  # "repeat" skipped: the conversation is past it
    assert panel.current == "solution" and panel.item("solution").font().bold()
    assert "Present a solution" in panel.tips.text() and not panel.item("repeat").font().bold()
    assert "Ticked when you said “i am sorry”" in panel.item("empathise").toolTip()
    panel.apply(tick(45.0, "solution", "i will send"))
    panel.apply(tick(80.0, "action", "my direct line"))
    assert panel.current == "feedback" and "After the call" in panel.tips.text()
    panel.apply(tick(90.0, "repeat", source="manual"))  # ticked by hand, late
    assert [t.step_id for t in panel.call_ticks()] == ["mindset", "listen", "repeat", "empathise", "solution", "action"]
    panel.apply(tick(91.0, "repeat", source="manual", done=False))
    assert "repeat" not in [t.step_id for t in panel.call_ticks()]


def test_the_summary_gives_the_calls_adherence_and_the_note_does_the_after_call_step(qtbot):
    playbook = find_playbook(UNHAPPY)
    ticks = [tick(0.5, "mindset"), tick(9.0, "listen", "mm hmm"), tick(25.0, "empathise", "i am sorry"),
             tick(45.0, "solution", "i will send"), tick(80.0, "action", "my direct line")]
    summary = SummaryDialog(95.0, None, [], 5, 7, playbook=playbook, ticks=ticks)
    qtbot.addWidget(summary)
    summary.show()
    assert "<b>Checklist</b> 5 of 7 steps" in summary.summary.text()
    shown = summary.adherence.text()
    assert "<b>Adherence</b> 71%: 5 of 7 steps done in the playbook's order" in shown
    assert "Not done: Repeat their concerns" in shown
    assert summary.notes_title.text().startswith("Notes — step 7, “Use the feedback”: After the call")
    summary.notes.setPlainText("The courier's photo was not checked before the call.")
    assert "86%: 6 of 7 steps done in the playbook's order (with your root-cause note)" in summary.adherence.text()
    summary.notes.setPlainText("   ")
    assert "71%: 5 of 7 steps" in summary.adherence.text()


def test_a_demo_call_in_the_window_ends_with_its_adherence_in_the_summary(qtbot, tmp_path, monkeypatch):
    from ui.call.main_window import MainWindow

    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    window = MainWindow(load_config(), all_playbooks()[0], QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat),
                        use_model=False)
    qtbot.addWidget(window)
    window.show()
    nows = []
    try:
        window.demo_speed = 12.0
        window.start_call(demo=True)
        window.session.bus.subscribe(lambda e: isinstance(e, StepTicked) and nows.append(e.step_id))
        qtbot.waitUntil(lambda: window.summary is not None, timeout=30000)
        assert nows == ["mindset", "listen", "repeat", "empathise", "solution", "action"]  # in the order said
        text = window.summary.adherence.text()
        assert text == "<b>Adherence</b> 86%: 6 of 7 steps done in the playbook's order"  # all said; the note to write
        assert "<b>Checklist</b> 6 of 7 steps" in window.summary.summary.text()
        assert window.current_step.text() == "Now: Use the feedback"
    finally:
        if window.session is not None:
            window.session.stop()
            window.session.ended.wait(5)
        window.bridge.detach()
