"""The window and the customer's mood: the strip beside the meters, the one-click offer of the Angry
customer steps, and the breather after a hard call (pytest-qt, offscreen; events through the real bridge,
and one real rendered call through the window's demo path)."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor

from companion.bus import EventBus
from companion.config import load_config
from companion.events import CustomerState, FinalSegment, MetricsSnapshot, Word
from companion.playbooks import all_playbooks
from companion.timeline import MOOD_COLOURS, MOOD_UNKNOWN_COLOUR
from tests.callgen import Say, Script
from tests.mood_scenarios import COMPLAINTS
from tests.scenarios import AGENT_LINES, CUSTOMER_LINES
from ui.call.main_window import MainWindow

ANGRY = "angry-customer"


def make_window(qtbot, tmp_path, playbook=None, breather_s=None):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat)
    if playbook is not None:
        settings.setValue("playbook", playbook)
    if breather_s is not None:
        settings.setValue("breather_s", breather_s)
    w = MainWindow(load_config(), all_playbooks()[0], settings, use_model=False)
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def windows(qtbot, tmp_path):
    made = []

    def make(**kw):
        made.append(make_window(qtbot, tmp_path, **kw))
        return made[-1]

    yield make
    for w in made:
        if w.session is not None:
            w.session.stop()
            w.session.ended.wait(5)
        w.bridge.detach()  # the bus, and the call's session with it, go with the test (tests/test_soak.py counts them)


@pytest.fixture
def window(windows):
    return windows()


def from_another_thread(fn):
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def snapshot(t, state=None, loud=None, semitones=None, pace=None, talkovers=0):
    return MetricsSnapshot(
        t=t, agent_speaking=False, customer_speaking=True, agent_level_db=-60.0, customer_level_db=-30.0,
        pace_wpm=None, pace_source="acoustic", pace_speech_s=0.0, loudness_db=None, loudness_baseline_db=None,
        pitch_hz=None, pitch_baseline_hz=None, agent_talk_s=0.0, customer_talk_s=t / 2, talk_share_window=None,
        window_talk_s=0.0, talk_share_call=None, current_monologue_s=0.0, longest_monologue_s=0.0, silence_s=0.0,
        interruptions_by_agent=0, interruptions_by_customer=0, agent_interrupting_since=None, agent_interrupting_s=0.0,
        dropped_blocks=0, customer_state=state, customer_loudness_db=loud, customer_pitch_semitones=semitones,
        customer_pace_rise=pace, customer_talkovers=talkovers)


def said(text, t=5.0, party="agent"):
    words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def publish(window, qtbot, bus, *events):
    handled = []
    window.bridge.event.connect(handled.append)
    try:
        from_another_thread(lambda: [bus.publish(e) for e in events])
        qtbot.waitUntil(lambda: events[-1] in handled, timeout=3000)
    finally:
        window.bridge.event.disconnect(handled.append)


def colour_at(widget, x_fraction):
    image = widget.grab().toImage()
    return QColor(image.pixel(int(x_fraction * (image.width() - 1)), image.height() // 2)).name()


# --- the strip ---------------------------------------------------------------------------------------
def test_the_mood_strip_follows_the_customers_state_with_the_trend_and_what_it_is_read_from(window, qtbot):
    bus = EventBus()
    window.bridge.attach(bus)
    mood = window.mood
    assert mood.state is None and mood.label.text() == "no call" and mood.detail.text() == ""
    publish(window, qtbot, bus, snapshot(5.0))
    assert mood.label.text() == "listening…" and colour_at(mood.trend, 0.99) == MOOD_UNKNOWN_COLOUR
    publish(window, qtbot, bus, CustomerState(20.0, "calm"), snapshot(21.0, "calm", 0.2, 0.1, 0.01))
    assert mood.state == "calm" and mood.label.text() == "Calm"
    assert MOOD_COLOURS["calm"] in mood.label.styleSheet()
    assert mood.detail.text() == "as at the start of the call"
    publish(window, qtbot, bus, CustomerState(40.0, "tense"), snapshot(41.0, "tense", 4.0, 1.0, 0.1))
    assert mood.label.text() == "Tense" and MOOD_COLOURS["tense"] in mood.label.styleSheet()
    publish(window, qtbot, bus, CustomerState(60.0, "upset"),
            snapshot(80.0, "upset", 7.2, 4.1, 0.2, talkovers=2))
    assert mood.label.text() == "Upset" and MOOD_COLOURS["upset"] in mood.label.styleSheet()
    # what the state is read from: level and pitch; the syllable rate (no evidence on real voices) is not shown
    assert mood.detail.text() == "+7 dB, +4 semitones than at the start; talked over you 2×"
    assert "+7 dB" in mood.toolTip()
    # the last two minutes (t 80: from -40): nothing known, then calm, tense, upset, newest on the right
    assert [s for _, _, s in mood.trend.segments()] == ["calm", "tense", "upset"]
    assert colour_at(mood.trend, 0.1) == MOOD_UNKNOWN_COLOUR
    assert colour_at(mood.trend, 0.99) == MOOD_COLOURS["upset"]
    publish(window, qtbot, bus, snapshot(200.0, "upset", 7.0, 4.0, 0.2))  # two minutes of upset since
    assert [s for _, _, s in mood.trend.segments()] == ["upset"]
    assert colour_at(mood.trend, 0.02) == MOOD_COLOURS["upset"]
    assert len(mood.trend.changes) <= 2  # what left the window is let go
    assert window.offer.isHidden()  # no call: nothing to switch


# --- the offer of the Angry customer steps -----------------------------------------------------------
def test_the_offer_comes_on_upset_only_and_one_click_switches_the_checklist_and_the_sessions_tracker(window, qtbot):
    window.start_call(demo=True)
    bus = window.session.bus
    window.checklist.item("listen").setCheckState(Qt.Checked)  # done by hand before the switch (in both playbooks)
    window.checklist.item("mindset").setCheckState(Qt.Checked)  # (only in the unhappy-customer playbook)
    publish(window, qtbot, bus, CustomerState(10.0, "calm"), CustomerState(14.0, "tense"))
    assert window.offer.isHidden()
    publish(window, qtbot, bus, CustomerState(18.0, "upset"))
    assert window.offer.isVisible() and window.offer.switch.text() == "Switch to Angry customer steps"
    assert window.checklist.playbook.id == "unhappy-customer"  # never switched without the click
    qtbot.mouseClick(window.offer.switch, Qt.LeftButton)
    assert window.checklist.playbook.id == ANGRY and window.checklist.heading.text() == "Angry customer"
    assert window.session.checklist.playbook.id == ANGRY
    assert window.checklist.is_done("listen") and "listen" in window.session.checklist.done  # kept where ids match
    assert not window.checklist.is_done("calm")
    assert window.checklist.current == "calm" and window.current_step.text().startswith("Now: Stay calm")
    assert window.offer.isHidden()
    # what the agent says now ticks the new playbook's steps
    publish(window, qtbot, bus, said("can i ask you a few questions so i can fix this", t=20.0))
    qtbot.waitUntil(lambda: window.checklist.is_done("approach"), timeout=2000)
    # remembered for the call: upset again, no offer
    publish(window, qtbot, bus, CustomerState(30.0, "calm"), CustomerState(40.0, "upset"))
    assert window.offer.isHidden() and window.checklist.playbook.id == ANGRY
    # the next call starts from the window's chosen playbook again, and may be offered the switch again
    window.stop_call()
    qtbot.waitUntil(lambda: window.summary is not None and not window.in_call, timeout=10000)  # the first summary
    assert "of 6 steps" in window.summary.summary.text()  # the summary counts the playbook the call ended with
    window.summary.accept()
    window.start_call(demo=True)
    assert window.checklist.playbook.id == "unhappy-customer" and window.session.checklist.playbook.id == "unhappy-customer"
    publish(window, qtbot, window.session.bus, CustomerState(5.0, "upset"))
    assert window.offer.isVisible()


def test_not_now_hides_the_offer_for_the_rest_of_the_call(window, qtbot):
    window.start_call(demo=True)
    bus = window.session.bus
    publish(window, qtbot, bus, CustomerState(10.0, "upset"))
    assert window.offer.isVisible()
    qtbot.mouseClick(window.offer.not_now, Qt.LeftButton)
    assert window.offer.isHidden() and window.checklist.playbook.id == "unhappy-customer"
    publish(window, qtbot, bus, CustomerState(20.0, "calm"), CustomerState(30.0, "upset"))
    assert window.offer.isHidden() and window.session.checklist.playbook.id == "unhappy-customer"


def test_no_offer_when_the_angry_customer_steps_are_already_the_checklist(windows, qtbot):
    window = windows(playbook=ANGRY)
    window.start_call(demo=True)
    assert window.checklist.playbook.id == ANGRY
    publish(window, qtbot, window.session.bus, CustomerState(10.0, "upset"))
    assert window.mood.state == "upset" and window.offer.isHidden()


# --- the breather after a hard call ------------------------------------------------------------------
def end_call(window, qtbot, *states):
    """A demo call in which the customer goes through `states`, stopped: its summary."""
    before = window.summary
    window.start_call(demo=True)
    if states:
        publish(window, qtbot, window.session.bus, *states)
    window.stop_call()
    qtbot.waitUntil(lambda: window.summary is not before and not window.in_call, timeout=10000)
    return window.summary


def test_after_an_upset_call_the_countdown_holds_start_call_and_the_demo_then_lets_go(windows, qtbot):
    window = windows(breather_s=1)
    summary = end_call(window, qtbot, CustomerState(3.0, "calm"), CustomerState(5.0, "upset"))
    assert window.breather.isVisible() and window.breather.label.text() == "Ready for the next call in 0:01"
    assert not window.controller.start_action.isEnabled() and not window.controller.demo_action.isEnabled()
    session = window.session
    window.start_call(demo=True)  # held: the demo too
    assert window.session is session and not window.in_call
    assert summary.breather.isVisible() and "The customer was upset for" in summary.breather.text()
    assert "waits 1 s" in summary.breather.text()
    qtbot.waitUntil(lambda: window.controller.start_action.isEnabled(), timeout=3000)
    assert window.controller.demo_action.isEnabled() and window.breather.isHidden()
    window.start_call(demo=True)
    assert window.in_call


def test_skip_ends_the_breather_at_once(windows, qtbot):
    window = windows(breather_s=45)
    end_call(window, qtbot, CustomerState(3.0, "upset"))
    assert window.breather.label.text() == "Ready for the next call in 0:45" and not window.controller.start_action.isEnabled()
    qtbot.mouseClick(window.breather.skip, Qt.LeftButton)
    assert window.controller.start_action.isEnabled() and window.controller.demo_action.isEnabled() and window.breather.isHidden()


def test_the_summary_suggests_a_pause_only_after_an_upset_call_even_with_the_countdown_off(window, qtbot):
    calm = end_call(window, qtbot, CustomerState(3.0, "calm"), CustomerState(6.0, "tense"))
    assert calm.breather.isHidden() and calm.breather.text() == ""
    assert "tense at times, never upset" in calm.summary.text()
    calm.accept()
    upset = end_call(window, qtbot, CustomerState(1.0, "calm"), CustomerState(2.0, "upset"))
    assert upset.breather.isVisible() and upset.breather.text().startswith("The customer was upset for")
    assert "pause before the next call" in upset.breather.text() and "waits" not in upset.breather.text()
    assert "upset for" in upset.summary.text()
    assert window.controller.start_action.isEnabled() and window.breather.isHidden()  # off by default: nothing held


def test_the_pause_after_a_hard_call_is_set_in_settings_and_off_by_default(window, qtbot):
    from ui.settings.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.config, window, window.settings)
    assert dialog.breather.value() == 0 and dialog.breather.text() == "Off"
    dialog.breather.setValue(60)
    dialog.save()
    assert window.settings.value("breather_s", type=int) == 60
    assert SettingsDialog(window.config, window, window.settings).breather.value() == 60


# --- a real call through the window ---------------------------------------------------------------


def customer_gets_upset() -> Script:
    """About 28 s of a calm customer at 160 words/min (their baseline), then three raised turns:
    +9 dB, 210 words/min, espeak pitch 85; about 110 s."""
    calm, agent = dict(wpm=160.0, tag="calm"), dict(wpm=145.0)
    raised = dict(wpm=210.0, gain_db=9.0, pitch=85, tag="upset")
    lines = [Say("agent", AGENT_LINES[0], at=0.5, **agent)]
    for n in range(5):
        lines += [Say("customer", CUSTOMER_LINES[n], gap=0.4, **calm), Say("agent", AGENT_LINES[n + 1], gap=0.5, **agent)]
    for a, b in ((0, 1), (2, 3), (4, 9)):
        lines += [Say("customer", f"{COMPLAINTS[a]} {COMPLAINTS[b]}", gap=0.4, **raised),
                  Say("agent", "I understand, and I am sorry.", gap=0.5, **agent)]
    return Script("window_customer_gets_upset", lines)


def test_a_real_call_where_the_customer_gets_upset_turns_the_strip_upset_and_brings_the_offer(windows, qtbot, make_call):
    wav, truth = make_call(customer_gets_upset())
    window = windows(breather_s=30)
    window.demo_speed = 8.0
    window.start_call(demo=True, recording=wav)
    assert window.in_call and window.transcript_source.isHidden()  # not the demo's script
    qtbot.waitUntil(lambda: window.mood.state == "calm", timeout=30000)
    assert window.offer.isHidden()
    first_upset = truth.of("customer", "upset")[0].start
    qtbot.waitUntil(lambda: window.mood.state == "upset", timeout=40000)
    assert window.customer_states[-1]["t"] > first_upset
    assert window.offer.isVisible()
    qtbot.waitUntil(lambda: "dB" in window.mood.detail.text(), timeout=5000)  # louder than at the start
    qtbot.waitUntil(lambda: window.summary is not None, timeout=40000)
    assert window.summary.breather.isVisible() and "upset for" in window.summary.breather.text()
    assert not window.controller.start_action.isEnabled() and window.breather.isVisible()  # the breather holds the next call
    qtbot.mouseClick(window.breather.skip, Qt.LeftButton)
    assert window.controller.start_action.isEnabled()
