"""The call window for everyone (pytest-qt, offscreen): paused for payment is said unmistakably — a banner
with why and how to resume, gone when storing resumes — and a screen reader hears each cue and pause as it
appears; every control has an accessible name; Help lists every shortcut, from the actions themselves."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QAccessible

from companion.bus import EventBus
from companion.config import load_config
from companion.events import Prompt, StoringPaused
from companion.playbooks import all_playbooks
from tests.test_window import from_another_thread, window  # noqa: F401 - the window fixture
from tests.test_window_mood import snapshot
from ui.accessibility import announcements, nameless
from ui.banner import IDLE_TEXT


def test_an_automatic_pause_for_payment_shows_a_banner_saying_why_and_how_to_resume_until_storing_resumes(
        window, qtbot):  # noqa: F811
    bus = EventBus()
    window.bridge.attach(bus)
    heard: list[str] = []
    announcements().made.connect(lambda text, _widget: heard.append(text))
    assert not window.pause_banner.isVisible() and window.banner.reason.text() == IDLE_TEXT
    from_another_thread(lambda: bus.publish(StoringPaused(31.0, True, automatic=True, cue="card number")))
    qtbot.waitUntil(window.pause_banner.isVisible, timeout=10000)
    said = window.pause_banner.text.text()
    assert "“card number” was said" in said and "Nothing said is stored" in said and "Ctrl+P" in said
    assert "PAUSED FOR PAYMENT" in window.pause_banner.title.text()
    assert window.controller.pause_action.isChecked()  # the button follows the pause it did not make
    assert window.banner.reason.text() != IDLE_TEXT and "coaching" in window.banner.reason.text().lower()
    assert any("Paused for payment" in text and "card number" in text for text in heard)  # a screen reader hears it
    from_another_thread(lambda: bus.publish(StoringPaused(52.0, False, automatic=True)))
    qtbot.waitUntil(lambda: not window.pause_banner.isVisible(), timeout=10000)
    assert window.statusBar().currentMessage().startswith("Storing again")
    assert not window.controller.pause_action.isChecked() and window.banner.reason.text() == IDLE_TEXT


def test_a_pause_by_the_key_shows_the_same_banner_and_its_resume_button_ends_it(window, qtbot):  # noqa: F811
    assert "pause by hand" in window.controller.pause_action.toolTip()  # no speech model: no cue is heard
    window.demo_speed = 1.0
    window.start_call(demo=True)
    try:
        window.controller.pause_action.trigger()  # Ctrl+P
        qtbot.waitUntil(window.pause_banner.isVisible, timeout=10000)
        assert "until you resume (Ctrl+P)" in window.pause_banner.text.text()
        assert window.session.storing_paused
        window.pause_banner.resume.click()
        qtbot.waitUntil(lambda: not window.pause_banner.isVisible(), timeout=10000)
        assert not window.session.storing_paused and window.statusBar().currentMessage() == "Storing again."
    finally:
        window.stop_call()
        qtbot.waitUntil(lambda: window.summary is not None, timeout=30000)


def test_every_control_of_every_window_has_an_accessible_name(window, qtbot):  # noqa: F811
    from ui.call.summary_dialog import SummaryDialog
    from ui.review.history_window import HistoryWindow
    from ui.review.replay_window import ReplayWindow
    from ui.settings.settings_dialog import SettingsDialog
    from ui.settings.setup_dialog import SetupDialog
    from ui.team.team_floor import TeamFloor

    playbooks = all_playbooks()[0]
    doc = {"duration_s": 60.0, "prompts": [{"t": 5.0, "kind": "slow_down", "reason": "fast"}], "turns": [],
           "interruptions": [], "pace": [],
           "call": {"id": 1, "started_at": "2026-12-05T10:00:00+00:00", "comments": [], "segments": []}}
    windows = {
        "call window": window,
        "settings": SettingsDialog(load_config(), window, window.settings),
        "setup": SetupDialog(playbooks, playbooks[0].id, "en-us", window),
        "summary": SummaryDialog(60.0, None, [], 1, 3, window, playbook=playbooks[0], ticks=[]),
        "history": HistoryWindow(),
        "replay": ReplayWindow(doc),
        "team floor": TeamFloor(),
    }
    for name, shown in windows.items():
        if shown is not window:
            qtbot.addWidget(shown)
        shown.show()
        assert QAccessible.queryAccessibleInterface(shown).childCount() > 0, name
        assert nameless(shown) == [], name
    window.controller.show_shortcuts()
    assert nameless(window.controller.shortcuts) == []
    # a control named by nothing is found: the walk is not vacuous
    from PySide6.QtWidgets import QLineEdit

    QLineEdit(window.centralWidget()).show()
    assert any(found.startswith("EditableText") for found in nameless(window))


def test_help_lists_every_shortcut_read_from_the_window_itself(window, qtbot):  # noqa: F811
    from ui.call.raise_hand import SHORTCUT

    assert window.controller.shortcuts_action in window.controller.help_menu.actions()
    window.controller.shortcuts_action.trigger()
    dialog = window.controller.shortcuts
    assert dialog is not None and dialog.isVisible()
    listed = dict(dialog.entries())
    assert listed["Ctrl+P"] == "Pause for payment" and listed["Ctrl+Return"] == "Start the call, or stop it"
    assert listed["Ctrl+M"] == "Compact" and listed["Ctrl+H"] == "History" and listed["F1"] == "Keyboard shortcuts"
    assert "supervisor" in listed[SHORTCUT] and listed["Ctrl+3"] == "Tick or untick step 3 of the checklist"
    assert len(listed) == len(dialog.entries())  # one row per key


def test_a_prompt_is_announced_to_a_screen_reader_as_it_appears(window, qtbot):  # noqa: F811
    heard: list[str] = []
    announcements().made.connect(lambda text, _widget: heard.append(text))
    bus = EventBus()
    window.bridge.attach(bus)
    from_another_thread(lambda: bus.publish(Prompt(12.0, "slow_down", "182 words/min — aim for 140–160")))
    qtbot.waitUntil(lambda: window.banner.kind == "slow_down", timeout=10000)
    assert heard[-1] == "Slow down. 182 words/min — aim for 140–160"
    assert window.banner.accessibleDescription() == heard[-1]


def test_no_state_is_told_by_colour_alone(window, qtbot):  # noqa: F811
    meters = window.meters
    for party in ("agent", "customer"):  # idle: empty line meters that say so, never full bars
        bar = meters.levels[party]
        assert bar.value() == bar.minimum() and bar.format() == "no call"
    assert window.mood.label.text() == "no call"
    assert all(bar.value() == bar.minimum() for bar in (meters.pace, meters.volume, meters.talk))  # idle: empty
    limit = window.config.coach.slow_down.wpm_above
    loud = window.config.coach.lower_tone.loudness_above_db + 2
    meters.update_metrics(replace(snapshot(30.0), pace_wpm=limit + 20, loudness_db=-20.0 + loud,
                                  loudness_baseline_db=-20.0, talk_share_window=0.8, agent_level_db=-20.0,
                                  customer_level_db=-65.0))
    assert "too fast" in meters.pace.format() and "loud" in meters.volume.format() and "a lot" in meters.talk.format()
    assert meters.levels["agent"].format().startswith("sound") and meters.levels["customer"].format() == "quiet"
    window.mood.reset()
    assert window.mood.label.text() == "listening…"
    window.mood.set_state(40.0, "calm")
    window.mood.set_state(70.0, "upset")
    assert window.mood.label.text() == "Upset" and "upset" in window.mood.label.accessibleName().lower()
    assert window.mood.trend.accessibleDescription() == "Last two minutes: calm, then upset"
    window.checklist.toggle_row(0)
    item = window.checklist.steps.item(0)
    from PySide6.QtCore import Qt

    assert item.data(Qt.AccessibleTextRole).endswith(", done")


def test_a_payment_cue_said_on_a_call_pauses_by_itself_and_the_window_says_so_until_it_resumes(
        window, qtbot, monkeypatch):  # noqa: F811
    """The real session and its payment-cue watcher, the demo's audio with a script in which the agent asks for
    the card: the banner comes up by itself, and goes when no card details were said for a while."""
    import ui.call.main_window as main_window
    from companion.asr.scripted import CallScript, ScriptLine

    script = CallScript("en-us", 0.5, (
        ScriptLine("agent", 1.0, 4.0, "thank you for calling how can I help"),
        ScriptLine("customer", 4.5, 7.0, "I would like to pay my bill please"),
        ScriptLine("agent", 8.0, 11.0, "could you read me the long number on the front of your card"),
        ScriptLine("customer", 12.0, 16.0, "four one one one one one one one two two two two three three three three"),
        ScriptLine("agent", 40.0, 43.0, "thank you that has gone through is there anything else"),
    ))
    monkeypatch.setattr(main_window, "demo_script", lambda: script)
    window.demo_speed = 6.0
    window.start_call(demo=True)
    try:
        qtbot.waitUntil(window.pause_banner.isVisible, timeout=20000)
        said = window.pause_banner.text.text()
        assert "Paused for payment by itself" in said and "long number on the front" in said and "Ctrl+P" in said
        assert window.session.storing_paused and window.controller.pause_action.isChecked()
        qtbot.waitUntil(lambda: not window.pause_banner.isVisible(), timeout=30000)  # no card words for a while
        assert window.statusBar().currentMessage().startswith("Storing again")
        assert not window.controller.pause_action.isChecked()
    finally:
        window.stop_call()
        qtbot.waitUntil(lambda: window.summary is not None, timeout=30000)


def test_the_status_bar_never_widens_the_window_and_a_cut_line_is_whole_in_its_tooltip(window, qtbot):  # noqa: F811
    from companion.asr.discovery import no_model_note

    note = f"Model: {no_model_note('en-us', 'Setup…')}"
    window.model_status.setText(note)
    window.recording_status.setText("Paused for payment")
    window.resize(700, 500)
    qtbot.waitUntil(lambda: window.width() <= 760, timeout=5000)
    label = window.model_status
    assert label.text() == note  # the whole text, for whoever reads it
    assert label.elided() and label.shown().endswith("…") and note in label.toolTip()
    assert window.statusBar().minimumSizeHint().width() < 700
    placeholder = window.transcript.placeholder  # the transcript's note, whole at this width
    assert placeholder.height() >= placeholder.heightForWidth(placeholder.width()) > 0
