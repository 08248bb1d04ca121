"""The window shows what the store keeps: the live transcript redacted as the store redacts it, a
number that a later segment may still show to be a card never shown in clear meanwhile, a line shown
again when a later segment takes more out of it, and (Settings → Privacy, off by default) numbers
shown as said for a minute while the agent types them into a payment screen."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QTimer

from companion.events import CallEnded, FinalSegment, PartialText, Turn, Word
from companion.store.recent_speech import collapse as _collapse
from companion.store.rows import CallRows, insert_call
from companion.store.schema import migrate
from companion.window_redaction import REVEAL_S, WindowTranscript
from tests.test_identity_redaction import load_identity_cases
from tests.test_redaction import load_cases
from ui.call.transcript_view import PENDING


def said(party: str, text: str, t: float) -> FinalSegment:
    words = tuple(Word(w, t + i * 0.35, t + i * 0.35 + 0.3, 0.9) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def tick(t: float) -> Turn:
    """The call's clock at `t`: the agent heard until then (the window reads the clock from any event)."""
    return Turn("agent", t - 0.5, t)


class Screen:
    """Everything a WindowTranscript asked the window to show, line by line, and every partial."""

    def __init__(self, **settings):
        self.shown = WindowTranscript(**settings)
        self.lines: dict[int, str] = {}
        self.seen: list[str] = []        # every text ever on screen, partials too

    def _apply(self, updates):
        for key, text in updates:
            self.lines[key] = text
            self.seen.append(text)

    def final(self, seg: FinalSegment) -> int:
        for n in range(1, len(seg.words) + 1):   # the words as the recogniser forms them
            words = seg.words[:n]
            self.seen.append(self.shown.partial(PartialText(seg.party, words[-1].end, " ".join(w.word for w in words), words)))
        key, updates = self.shown.final(seg)
        self._apply(updates)
        return key

    def heard(self, event):
        self._apply(self.shown.heard(event))

    def texts(self) -> list[str]:
        return [self.lines[k] for k in sorted(self.lines)]


def stored(segments: list[FinalSegment]) -> list[str]:
    """The same segments through the store's own write path: each row's words, as the window collapses them."""
    db = sqlite3.connect(":memory:")
    migrate(db)
    rows = CallRows(db, insert_call(db, "2026-01-01T10:00:00+00:00", "live", None))
    for seg in segments:
        rows.segment(seg.party, seg.start, seg.end, "", [(w.word, w.start, w.end, w.conf) for w in seg.words])
    out = []
    for (sid,) in db.execute("SELECT id FROM segments ORDER BY start"):
        out.append(_collapse([w for (w,) in db.execute("SELECT word FROM words WHERE segment_id = ? ORDER BY start", (sid,))]))
    return out


def timed(case: dict) -> list[FinalSegment]:
    segments = [tuple(s) for s in case["segments"]] if "segments" in case else [("customer", case["said"])]
    out, t = [], 1.0
    for party, text in segments:
        seg = said(party, text, t)
        out.append(seg)
        t = seg.end + 1.5
    return out


MULTI = [c for c in load_cases() + load_identity_cases() if len(c.get("segments", [])) > 1]


def test_the_labelled_cases_of_several_segments_are_many():
    assert len(MULTI) >= 25


@pytest.mark.parametrize("case", MULTI, ids=[" / ".join(s[1][:24] for s in c["segments"]) for c in MULTI])
def test_the_window_ends_up_showing_what_the_store_keeps_and_never_showed_more(case):
    """Every labelled case of several segments (cards read with pauses, the agent's question then the
    customer's answer): once the call is over the window shows each line exactly as the store keeps it,
    and no word the store took out was ever on screen, not even before the next segment came."""
    segments = timed(case)
    screen = Screen()
    for seg in segments:
        screen.final(seg)
    screen.heard(CallEnded(segments[-1].end + 30.0, 0))
    keeps = stored(segments)
    assert screen.texts() == keeps
    taken = {w.word for seg, kept in zip(segments, keeps) for w in seg.words} - set(" ".join(keeps).split())
    for text in screen.seen:
        assert not taken & set(text.split()), (text, taken & set(text.split()))


def test_a_card_group_said_alone_shows_as_a_label_until_nothing_can_join_it_then_as_stored():
    screen = Screen()
    key = screen.final(said("customer", "it's four one one one", 1.0))
    assert screen.lines[key] == "it's [card]"          # the rest of a card may still come: not one digit shown
    screen.heard(tick(5.0))
    assert screen.lines[key] == "it's [card]"
    screen.heard(tick(12.0))                             # 8 s of nothing from them: the store keeps it as said
    assert screen.lines[key] == "it's four one one one" == stored([said("customer", "it's four one one one", 1.0)])[0]


def test_the_first_half_of_a_card_is_shown_again_when_the_second_half_comes():
    screen = Screen()
    first = screen.final(said("agent", "can i take the long number please", 1.0))
    half = screen.final(said("customer", "four two four two four two four two", 4.0))
    assert screen.lines[half] == "[card]"
    screen.final(said("customer", "four two four two four two four two", 8.0))
    screen.heard(CallEnded(30.0, 0))
    assert screen.texts() == ["can i take the long number please", "[card]", "[card]"]
    assert screen.lines[first] == "can i take the long number please"


def test_identity_details_are_out_of_the_window_too():
    screen = Screen()
    screen.final(said("agent", "can i take your full name and date of birth please", 1.0))
    screen.final(said("customer", "yes it's jane doe", 5.0))
    screen.final(said("customer", "fourth of july nineteen eighty two", 7.5))
    screen.final(said("customer", "and i live at twenty two", 10.5))
    screen.final(said("customer", "acacia avenue", 12.5))
    screen.heard(CallEnded(40.0, 0))
    assert screen.texts()[1:] == ["yes it's [name]", "[dob]", "and i live at [address]", "[address]"]
    assert not {"jane", "doe", "july", "acacia", "twenty"} & set(" ".join(screen.seen).split())


def test_with_redaction_off_the_window_shows_the_words_as_said():
    screen = Screen(redaction=False)
    key = screen.final(said("customer", "my name is jane doe four one one one", 1.0))
    assert screen.lines[key] == "my name is jane doe four one one one"


def test_show_digits_shows_numbers_as_said_for_a_minute_and_never_names():
    screen = Screen(show_digits=True)
    screen.final(said("agent", "and the card number", 1.0))
    card = screen.final(said("customer", "four one one one one one one one one one one one one one one one", 3.0))
    name = screen.final(said("customer", "the name on the card is jane doe", 10.0))
    assert screen.lines[card] == "four one one one one one one one one one one one one one one one"
    assert screen.lines[name] == "the name on the card is [name]"
    screen.heard(tick(30.0))
    assert screen.lines[card].startswith("four one one one")
    screen.heard(tick(3.0 + 6 + REVEAL_S))             # a minute after it was said: as stored
    assert screen.lines[card] == "[card]"


def test_show_digits_goes_when_the_call_ends():
    screen = Screen(show_digits=True)
    key = screen.final(said("customer", "the security code is seven three seven", 1.0))
    assert screen.lines[key] == "the security code is seven three seven"
    screen.heard(CallEnded(5.0, 0))
    assert screen.lines[key] == "the security code is [code]"


def test_the_setting_is_off_by_default():
    from companion.config import load_config

    assert load_config(use_user_default=False).privacy.show_digits is False


# --- the window itself ------------------------------------------------------------------------------

@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from companion.config import load_config
    from companion.playbooks import all_playbooks
    from ui.call.main_window import MainWindow

    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat)
    w = MainWindow(load_config(), all_playbooks()[0], settings, use_model=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.bridge.detach()


def _rows(window) -> list[str]:
    from PySide6.QtCore import Qt

    model = window.transcript.model
    return [model.data(model.index(row), Qt.DisplayRole) for row in range(model.rowCount())]


def test_the_window_s_transcript_never_shows_a_card_and_redraws_a_line_a_later_segment_changes(window, qtbot):
    import threading

    from companion.bus import EventBus

    bus = EventBus()
    window.bridge.attach(bus)
    events = [said("agent", "can i take the card number please", 1.0),
              PartialText("customer", 4.5, "yes it's four five", (Word("yes", 4.0, 4.2, 1), Word("it's", 4.2, 4.4, 1),
                                                                  Word("four", 4.4, 4.6, 1), Word("five", 4.6, 4.8, 1))),
              said("customer", "yes it's four five five six seven three seven five", 4.0),
              said("customer", "eight six eight nine nine eight five five", 8.5),
              tick(20.0), said("customer", "my name is jane doe", 21.0)]
    seen: list[str] = []
    window.transcript.model.dataChanged.connect(lambda *a: seen.extend(_rows(window)))
    window.transcript.model.rowsInserted.connect(lambda *a: seen.extend(_rows(window)))
    thread = threading.Thread(target=lambda: [bus.publish(e) for e in events])
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(window.transcript.model.lines) == 4 and all(
        l.final and l.text != PENDING for l in window.transcript.model.lines), timeout=5000)
    texts = [line.text for line in window.transcript.model.lines]
    assert texts == ["can i take the card number please", "yes it's [card]", "[card]", "my name is [name]"]
    on_screen = " ".join(seen + _rows(window)).split()
    assert not {"five", "six", "seven", "eight", "nine", "jane", "doe"} & set(on_screen)
    assert all(text in " ".join(_rows(window)) for text in texts)


def test_a_burst_of_lines_is_shown_at_once_and_judged_a_slice_at_a_time(window, qtbot):
    """A backlog of lines (the window busy for a while) appears at once, each line waiting to be judged
    shown as PENDING, never as said; the event loop turns while they are judged."""
    from companion.bus import EventBus

    bus = EventBus()
    window.bridge.attach(bus)
    turns = []
    timer = QTimer()
    timer.timeout.connect(lambda: turns.append(sum(l.text == PENDING for l in window.transcript.model.lines)))
    timer.start(5)
    card = "four one one one one one one one one one one one one one one one"
    for i in range(300):
        bus.publish(said("customer" if i % 2 else "agent", f"and my card is {card}" if i % 3 == 0 else "okay thanks", i * 2.0))
    qtbot.waitUntil(lambda: len(window.transcript.model.lines) == 300 and not any(
        l.text == PENDING for l in window.transcript.model.lines), timeout=60000)
    timer.stop()
    assert any(0 < n < 300 for n in turns)   # the loop turned while lines were being judged
    texts = [l.text for l in window.transcript.model.lines]
    assert texts.count("and my card is [card]") == 100 and not any("four" in t for t in texts)


def test_the_settings_offer_show_digits_off_and_save_it(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QLabel

    from companion.config import load_config
    from ui.settings.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.config, window, window.settings)
    qtbot.addWidget(dialog)
    assert dialog.show_digits.text() == "Show digits while I type them (payment screens)"
    assert not dialog.show_digits.isChecked()
    assert "[name]" in " ".join(label.text() for label in dialog.findChildren(QLabel))   # the rules listed
    dialog.show_digits.setChecked(True)
    dialog.save()
    assert load_config().privacy.show_digits is True
    window.apply_config(load_config())
    window.transcript.model.configure(window.config.privacy.redact, window.config.privacy.show_digits)
    window.transcript.model.clear()
    window.transcript.model.final(said("customer", "the security code is seven three seven", 1.0))
    assert window.transcript.model.lines[-1].text == "the security code is seven three seven"
    window.transcript.model.heard(CallEnded(4.0, 0))
    assert window.transcript.model.lines[-1].text == "the security code is [code]"


# --- printed text: companion analyze --json ------------------------------------------------------------

def test_the_analysis_document_s_turns_are_redacted_as_the_store_keeps_them():
    from companion.report import ReportCollector

    segments = [said("agent", "can i take your name and the card number please", 1.0),
                said("customer", "it's jane doe and the card is four one one one one one one one", 5.0),
                said("customer", "one one one one one one one one", 10.0)]
    turns = [Turn("agent", 1.0, 4.5), Turn("customer", 5.0, 13.0)]
    texts = {}
    for redaction in (True, False):
        collector = ReportCollector(redaction=redaction)
        for event in segments + turns:
            collector(event)
        doc = collector.to_json("call.wav", 14.0, None, "acoustic")
        texts[redaction] = [t["text"] for t in doc["turns"]]
    assert texts[True][0] == "can i take your name and the card number please"
    assert texts[True][1] == "it's [name] [name] and the card is " + " ".join(["[card]"] * 16)
    assert "jane doe" in texts[False][1] and "four one one one" in texts[False][1]   # Settings → Privacy off: as said
