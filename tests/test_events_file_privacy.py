"""The events file (`--events-jsonl`) follows the store's privacy rules: nothing said inside a pause for
payment reaches it in any event (partials included), a card number read across several segments is
taken out as the store takes it out, and the file is owner-only.

The call is the demo recording played through the real pipeline, kept in the real store, with a
script of its words (the ScriptedTranscriber stands where the recogniser stands) in which the customer
reads a card number in four groups, the agent saying "yep" and "ok" between them, and later gives their
name, postcode and date of birth, each split over two segments."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import threading
import time
from dataclasses import replace

import pytest

from companion.asr.scripted import CallScript, ScriptLine
from companion.config import load_config
from companion.demo import demo_recording, demo_script
from companion.event_json import JsonlWriter
from companion.event_redaction import EventRedactor
from companion.events import CallEnded, FinalSegment, PartialText, StoringPaused, Turn, Word
from companion.session import CallSession
from companion.store.calls import load_call
from companion.store.db import open_store
from companion.store.redaction import is_label
from companion.store.rows import CallRows, insert_call
from companion.store.schema import migrate
from tests.test_identity_redaction import load_identity_cases
from tests.test_redaction import load_cases

PAUSE_AT, RESUME_AT = 6.0, 10.0   # inside the customer's first turn (4.0–14.9 s): resumed mid-utterance
CARD_GROUPS = ("five four two five", "two three three four", "three zero one zero", "nine nine zero three")
CARD_AT = (21.0, 31.7)
ORDER = "my order number is five five two one"   # the store keeps an order number: so does the file
NUMBER_WORDS = {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
IDENTITY_AT = 92.5   # from here on the customer gives their name, postcode and date of birth, each in two segments
IDENTITY = (("customer", 92.7, 93.7, "my name is"), ("customer", 94.2, 95.4, "jane doe"),
            ("agent", 95.8, 97.1, "and your postcode please"),
            ("customer", 97.5, 98.7, "it's sierra whiskey"), ("customer", 99.1, 100.7, "one alpha one alpha alpha"),
            ("customer", 101.0, 102.3, "my date of birth is"), ("customer", 102.7, 104.7, "the fourth of july nineteen eighty two"))
ORDER_IN = "This is the second time"   # the demo's customer line the order number takes the place of
IDENTITY_WORDS = {"jane", "doe", "sierra", "whiskey", "alpha", "one", "fourth", "july", "nineteen", "eighty", "two"}


def card_call_script():
    """The demo's script, its customer's second turn replaced by the card read in four groups, their third
    by an order number (the last thing they say for 14 s), and the call's last 20 s (but the agent's goodbye)
    by their name, postcode and date of birth."""
    script = demo_script()
    lines = [line for line in script.lines if not (CARD_AT[0] - 1 < line.start < CARD_AT[1])
             and not IDENTITY_AT < line.start < IDENTITY[-1][2]]
    lines += [ScriptLine(*line) for line in IDENTITY]
    lines = [ScriptLine("customer", line.start, line.start + 2.5, ORDER) if line.text.startswith(ORDER_IN) else line
             for line in lines]
    lines += [ScriptLine("customer", 21.0, 23.0, f"it's {CARD_GROUPS[0]}"), ScriptLine("agent", 23.3, 23.8, "yep"),
              ScriptLine("customer", 24.1, 26.1, CARD_GROUPS[1]), ScriptLine("agent", 26.3, 26.7, "ok"),
              ScriptLine("customer", 27.1, 29.1, CARD_GROUPS[2]), ScriptLine("customer", 29.5, 31.6, CARD_GROUPS[3])]
    return replace(script, lines=tuple(sorted(lines, key=lambda line: line.start)))


@pytest.fixture(scope="module")
def card_call(tmp_path_factory):
    """One call through the pipeline: paused for payment mid-sentence, a card read across segments.
    Returns (script, events written, the stored call, the events file's mode, words written too early)."""
    tmp = tmp_path_factory.mktemp("events-privacy")
    with pytest.MonkeyPatch.context() as mp:   # this module's own store, never the user's
        mp.setenv("COMPANION_DATA_DIR", str(tmp / "data"))
        mp.setenv("COMPANION_CONFIG_DIR", str(tmp / "config"))
        script = card_call_script()
        session = CallSession(load_config(use_user_default=False))
        recorder = session.keep("live")
        path = tmp / "events.jsonl"
        writer = JsonlWriter(str(path), redaction=session.config.privacy.redact)   # as `companion live` makes it
        session.bus.subscribe(writer)
        session.on_close(lambda timeout: writer.close())

        def pilot():   # on the call's own clock, as a person presses the key: however far behind a busy machine's
            for at, paused in ((PAUSE_AT, True), (RESUME_AT, False)):   # pipeline is, the pause is 8–12 s
                while session.now() < at and not session.ended.is_set():
                    time.sleep(0.002)
                session.pause_storing(paused)

        session.start_demo(demo_recording(), speed=10.0, script=script)
        threading.Thread(target=pilot, name="pause-pilot", daemon=True).start()
        assert session.ended.wait(90)
        doc = load_call(open_store(), recorder.call_id)
        events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return script, events, doc, stat.S_IMODE(path.stat().st_mode), writer.redactor.late_words


def said_text(event: dict) -> str:
    """Everything an event holds that was said: its text and its word list."""
    return " ".join([event.get("text") or ""] + [w[0] for w in event.get("words") or []]).lower()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z'\-]+", text.lower())


def test_nothing_said_inside_a_pause_reaches_the_events_file_and_coaching_goes_on(card_call):
    script, events, doc, _, _ = card_call
    [pause] = doc["call"]["pauses"]
    paused = [e for e in events if e["type"] == "pause"]
    assert [e["paused"] for e in paused] == [True, False] and paused[0]["t"] == pause["start"]
    inside, outside = set(), set()
    for line in script.lines:
        for w in script.words(line):
            (inside if w.end >= pause["start"] and w.start <= pause["end"] else outside).update(words_of(w.word))
    only_inside = inside - outside   # "coffee", "machine", "weeks", the agent's "mm-hmm"…
    assert len(only_inside) >= 3
    first_sentence = [e for e in events if e.get("party") == "customer" and e["type"] in ("partial", "segment")
                      and e["t"] < 17.5]
    assert [e for e in first_sentence if e["t"] > pause["end"]]   # the sentence went on after the resume…
    for event in events:   # …and no event holds a word of it said inside the pause
        assert not only_inside & set(words_of(said_text(event))), event
    assert any(e["type"] == "metrics" and pause["start"] < e["t"] < pause["end"] for e in events)
    assert any(e["type"] == "turn" and e["party"] == "agent" and pause["start"] < e["start"] < pause["end"]
               for e in events)   # the agent's "mm-hmm" is heard as a turn, though not as words


def test_a_card_number_read_across_segments_is_never_written_in_clear(card_call):
    _, events, doc, _, _ = card_call
    card_time = [e for e in events if e.get("party") == "customer" and e["type"] in ("partial", "segment")
                 and CARD_AT[0] - 0.5 <= e["t"] <= CARD_AT[1] + 1.0]
    assert len([e for e in card_time if e["type"] == "segment"]) == 4 and [e for e in card_time if e["type"] == "partial"]
    for event in card_time:
        assert not NUMBER_WORDS & set(words_of(said_text(event))), event
    stored = [s for s in doc["call"]["segments"] if s["party"] == "customer" and CARD_AT[0] <= s["start"] <= CARD_AT[1]]
    assert all("[card]" in s["text"] for s in stored)   # the store took it out too, rewriting the first halves


def test_the_events_file_says_what_the_store_keeps(card_call):
    _, events, doc, _, late_words = card_call
    written = {(e["party"], round(e["start"], 2)): [w[0] for w in e["words"]] for e in events if e["type"] == "segment"}
    stored = doc["call"]["segments"]
    assert len(written) == len(stored) > 10
    for segment in stored:
        mine, kept = written[(segment["party"], round(segment["start"], 2))], segment["text"].split()
        # word for word the same, except that a first half the file wrote as [number] the store later called [card]
        assert len(mine) == len(kept) and all(a == b or (is_label(a) and is_label(b)) for a, b in zip(mine, kept)), \
            (mine, kept)
    assert any(e["type"] == "segment" and e["text"] == ORDER for e in events)   # held back until decided, then in clear
    assert late_words == 0   # nothing was written that a later segment showed to be personal


def test_a_name_postcode_and_date_of_birth_split_over_segments_are_never_written_in_clear(card_call):
    """"my name is" / "jane doe", the agent's "and your postcode please" / "it's sierra whiskey" / "one alpha
    one alpha alpha", "my date of birth is" / "the fourth of july nineteen eighty two": in no partial and no
    segment is a word of them in clear, and each segment is written exactly as the store keeps it."""
    _, events, doc, _, late_words = card_call
    said = [e for e in events if e.get("party") == "customer" and e["type"] in ("partial", "segment")
            and e["t"] >= IDENTITY_AT]
    assert len([e for e in said if e["type"] == "segment"]) == 6 and len([e for e in said if e["type"] == "partial"]) >= 6
    for event in said:
        assert not IDENTITY_WORDS & set(words_of(said_text(event))), event
    stored = {round(s["start"], 2): s["text"] for s in doc["call"]["segments"]
              if s["party"] == "customer" and s["start"] >= IDENTITY_AT}
    assert {"[name]", "[postcode]", "[dob]"} <= set(" ".join(stored.values()).split())   # the store took them out too
    written = {round(e["start"], 2): e["text"] for e in said if e["type"] == "segment"}
    assert written == stored
    assert late_words == 0


def test_the_events_file_is_owner_only(card_call):
    assert card_call[3] == 0o600


# --- the same rules, event by event -------------------------------------------------------------

def said(party, text, t, step=0.3):
    words = tuple(Word(w, round(t + i * step, 3), round(t + i * step + step * 0.8, 3), 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def texts(out):
    return [e.text for e in out if isinstance(e, (FinalSegment, PartialText))]


def test_a_number_at_the_end_of_a_segment_waits_for_what_follows():
    redactor = EventRedactor()
    assert redactor.feed(said("customer", "the first part is four one one one", 1.0)) == []   # held: it may go on
    assert texts(redactor.feed(said("agent", "mhm", 4.0))) == ["mhm"]
    out = redactor.feed(said("customer", "one one one one one one one one one one one one", 5.0))
    assert texts(out) == ["the first part is [card] [card] [card] [card]", "[card] " * 11 + "[card]"]
    assert redactor.late_words == 0


def test_a_held_segment_is_written_as_the_store_keeps_it_once_its_speaker_stayed_silent():
    redactor = EventRedactor()
    assert redactor.feed(said("customer", "it was flat forty two", 1.0)) == []
    assert texts(redactor.feed(Turn("agent", 3.0, 8.0))) == []          # the store could still join: wait
    out = redactor.feed(Turn("agent", 9.0, 12.0))                       # 8 s on, the customer silent throughout
    assert texts(out) == ["it was flat forty two"]


def test_a_held_segment_whose_speaker_made_only_sounds_is_written_with_all_a_continuation_could_take_out():
    redactor = EventRedactor()
    assert redactor.feed(said("customer", "it was flat forty two", 1.0)) == []
    redactor.feed(Turn("customer", 4.0, 5.0))                           # heard, but no words ever came
    assert texts(redactor.feed(Turn("agent", 9.0, 12.0))) == []
    out = redactor.feed(Turn("agent", 13.0, 32.0))
    assert texts(out) == ["it was [address] [address] [address]"]     # "… acacia avenue" would make it an address


def test_a_partial_is_judged_with_the_segments_before_it():
    redactor = EventRedactor()
    redactor.feed(said("customer", "five four two five", 1.0))
    [partial] = redactor.feed(PartialText("customer", 4.5, "two three three", (
        Word("two", 3.0, 3.2, 1.0), Word("three", 3.3, 3.5, 1.0), Word("three", 3.6, 3.8, 1.0))))
    assert is_label(partial.text)   # "[phone]" for seven digits so far; no digit of them in clear
    [partial] = redactor.feed(PartialText("agent", 4.5, "let me check that for you", ()))
    assert partial.text == "let me check that for you"
    assert texts(redactor.feed(CallEnded(10.0, 0))) == ["five four two five"]   # nothing joined it: as the store keeps it


def test_a_partial_after_a_resume_leaves_out_the_words_said_in_the_pause(tmp_path):
    path = tmp_path / "events.jsonl"
    writer = JsonlWriter(str(path))
    words = tuple(Word(w, 1.0 + i, 1.8 + i, 1.0) for i, w in enumerate("hello my card is four one one one thanks".split()))
    writer(StoringPaused(4.5, True))   # "is four one one one" (4.0–8.8 s) said inside
    writer(PartialText("customer", 7.5, " ".join(w.word for w in words[:7]), words[:7]))   # inside: nothing
    writer(StoringPaused(8.4, False))
    writer(PartialText("customer", 9.9, " ".join(w.word for w in words), words))            # the utterance so far
    writer(PartialText("agent", 9.9, "what did you say"))   # no word times: it may have begun in the pause, left out
    writer(FinalSegment("customer", words[0].start, words[-1].end, words))
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["type"], e.get("text")) for e in lines if e["type"] != "pause"] == [
        ("partial", "hello my card thanks"), ("segment", "hello my card thanks")]


def test_an_existing_events_file_is_made_owner_only_when_appended_to(tmp_path, capfd):
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 0.0, "type": "call_start", "wall": 1.0}\n')
    path.chmod(0o644)
    writer = JsonlWriter(str(path), append=True)
    writer(StoringPaused(1.0, True))
    writer.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().splitlines()) == 2                     # what was there is kept
    assert "it is owner-only (0600) now" in capfd.readouterr().err
    fresh = tmp_path / "new.jsonl"
    JsonlWriter(str(fresh)).close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600


def test_with_redaction_turned_off_the_pause_and_the_mode_still_hold(tmp_path):
    path = tmp_path / "events.jsonl"
    writer = JsonlWriter(str(path), redaction=False)   # the user turned redaction off for their own store
    writer(said("customer", "four one one one", 1.0))
    writer(StoringPaused(3.0, True))
    writer(said("customer", "the code is one two three", 4.0))
    writer(StoringPaused(7.0, False))
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["text"] for e in lines if e["type"] == "segment"] == ["four one one one"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_words_written_before_a_late_segment_showed_them_personal_are_said_once(tmp_path, capfd):
    path = tmp_path / "events.jsonl"
    writer = JsonlWriter(str(path))
    writer(said("customer", "it was flat forty two", 1.0))
    writer(Turn("agent", 9.0, 12.0))              # the voice detector heard the customer silent: written as judged
    writer(said("customer", "one one one one one one one one one", 5.0))   # yet the recogniser brings more, late
    writer(said("customer", "one one one one one one", 9.0))
    writer.close()
    assert writer.redactor.late_words == 2
    err = capfd.readouterr().err
    assert err.count("the events file holds words that a later segment showed to be personal") == 1


def test_ordinary_speech_is_written_at_once():
    redactor = EventRedactor()
    for text in ("let me take a", "so I", "점 이 여 가 의", "thank you for calling how can i help"):
        assert texts(redactor.feed(said("agent", text, 1.0 + len(redactor.recent.pieces) * 3))) == [text]
    [partial] = redactor.feed(PartialText("customer", 20.0, "it is j"))   # a spelled letter: maybe an address
    assert partial.text == "it is [email]"


# --- identity details across segments, event by event ---------------------------------------------

SPLITS = {   # (party, start, end, words): each line a final segment, said word by word as partials first
    "a name after 'my name is'": [("customer", 3.0, 4.5, "my name is"), ("customer", 5.0, 6.5, "jane doe")],
    "a surname after a first name that is a word too": [("customer", 3.0, 4.5, "my name is will"),
                                                        ("customer", 5.0, 6.5, "thompson")],
    "'this is tom baker' / 'speaking'": [("agent", 3.0, 4.5, "this is tom baker"), ("agent", 5.0, 6.5, "speaking")],
    "'sarah' / 'speaking'": [("agent", 3.0, 3.6, "sarah"), ("agent", 4.0, 6.0, "speaking how can i help")],
    "the rest of a postcode": [("customer", 3.0, 4.5, "it's s w one a"), ("customer", 5.0, 6.5, "one a a")],
    "a postcode asked for by the agent": [("agent", 1.0, 2.5, "and your postcode please"),
                                          ("customer", 3.0, 4.5, "it's sierra whiskey"),
                                          ("customer", 5.0, 6.5, "one alpha one alpha alpha")],
    "the rest of an address": [("customer", 3.0, 4.5, "i live at twenty two"), ("customer", 5.0, 6.5, "acacia avenue")],
    "a date of birth split after its day": [("customer", 3.0, 4.5, "my date of birth is the fourth"),
                                            ("customer", 5.0, 7.0, "of july nineteen eighty two")],
    "a date of birth asked for by the agent": [("agent", 1.0, 2.5, "and your date of birth"),
                                               ("customer", 3.0, 4.0, "the fourth"),
                                               ("customer", 4.5, 6.5, "of july nineteen eighty two")],
}


def store_keeps(segments: list[FinalSegment]) -> dict[tuple[str, float], list[str]]:
    """(party, start) -> the segment's words as the store keeps them, through its own write path."""
    db = sqlite3.connect(":memory:")
    migrate(db)
    rows = CallRows(db, insert_call(db, "2026-01-01T10:00:00+00:00", "live", None))
    for seg in segments:
        rows.segment(seg.party, seg.start, seg.end, "", [(w.word, w.start, w.end, w.conf) for w in seg.words])
    return {(party, start): [w for (w,) in db.execute("SELECT word FROM words WHERE segment_id = ? ORDER BY start", (sid,))]
            for sid, party, start in db.execute("SELECT id, party, start FROM segments")}


def replay(lines):
    """The lines as a recogniser gives them (a partial per word, the final segment half a second after the
    line), through an EventRedactor; returns (everything written, the final segments as the store keeps them)."""
    script = CallScript("en", 0.5, tuple(ScriptLine(*line) for line in lines))
    timed = []
    for line in script.lines:
        words = script.words(line)
        timed += [(w.end, 0, PartialText(line.party, w.end, " ".join(x.word for x in words[:i + 1]), words[:i + 1]))
                  for i, w in enumerate(words)]
        timed.append((line.end + script.final_delay_s, 1, FinalSegment(line.party, words[0].start, words[-1].end, words)))
    events = [event for _, _, event in sorted(timed, key=lambda e: e[:2])]
    redactor = EventRedactor()
    out = [written for event in events for written in redactor.feed(event)]
    out += redactor.feed(CallEnded(events[-1].end + 1.0, 0))
    return out, store_keeps([e for e in events if isinstance(e, FinalSegment)]), redactor.late_words


@pytest.mark.parametrize("lines", SPLITS.values(), ids=SPLITS.keys())
def test_an_identity_detail_split_over_segments_is_never_written_in_clear(lines):
    out, stored, late_words = replay(lines)
    kept = {w for words in stored.values() for w in words}
    personal = {said for line in lines for said, w in zip(line[3].split(), stored[(line[0], line[1])])
                if is_label(w)} - kept   # the words the store took out (not also kept elsewhere, as "is")
    assert personal
    for event in out:
        if isinstance(event, (PartialText, FinalSegment)):
            assert not personal & set(event.text.split() + [w.word for w in event.words]), event
    segments = {(e.party, e.start): [w.word for w in e.words] for e in out if isinstance(e, FinalSegment)}
    assert segments == stored
    assert late_words == 0


MULTI = [c for c in load_cases() + load_identity_cases() if len(c.get("segments", [])) > 1]


@pytest.mark.parametrize("case", MULTI, ids=[" / ".join(s[1][:24] for s in c["segments"]) for c in MULTI])
def test_every_labelled_case_of_several_segments_is_written_as_the_store_keeps_it(case):
    """The measured cases said over several segments (cards read with pauses, the agent's question and
    the customer's answer), each segment's words as partials first: no word the store took out is in
    any event, and each segment says what the store kept (a first half's [number] may be its [card])."""
    lines, t = [], 1.0
    for party, text in case["segments"]:
        end = t + 0.35 * len(text.split())
        lines.append((party, round(t, 2), round(end, 2), text))
        t = end + 1.5
    out, stored, late_words = replay(lines)
    taken = {w for line in lines for w in line[3].split()} - {w for words in stored.values() for w in words}
    for event in out:
        if isinstance(event, (PartialText, FinalSegment)):
            assert not taken & set(event.text.split() + [w.word for w in event.words]), event
    written = {(e.party, e.start): [w.word for w in e.words] for e in out if isinstance(e, FinalSegment)}
    assert written.keys() == stored.keys()
    for key, kept in stored.items():
        assert len(written[key]) == len(kept) and all(a == b or (is_label(a) and is_label(b))
                                                      for a, b in zip(written[key], kept)), (written[key], kept)
    assert late_words == 0
