"""The call window for everyone (pytest-qt, offscreen): paused for payment is said unmistakably — a banner
with why and how to resume, gone when storing resumes — and a screen reader hears each cue and pause as it
appears; every control has an accessible name; Help lists every shortcut, from the actions themselves."""

from __future__ import annotations

from companion.bus import EventBus
from companion.events import Prompt, StoringPaused
from tests.test_window import from_another_thread, window  # noqa: F401 - the window fixture
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
