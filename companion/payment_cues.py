"""Automatic pause for payment: storing pauses by itself when a payment cue is said, and resumes when the
card details are over.

Agents forget the pause key. So when either party says a payment cue ("card number", "long number on the
front", "expiry date", "security code" — the playbook's list, or `[privacy] payment_cues`), the watcher
asks the call to pause from the moment the cue was *said* (the recogniser's words arrive a second or two
late, and every keeper drops words by the time they were said, so nothing after the cue is kept). While
paused by itself, it resumes after `auto_resume_s` of call time in which neither party said a digit or a
card word; the agent can resume at once with the pause key. A pause the agent made by hand is never ended
by the watcher. Coaching from the sound goes on throughout.

The watcher needs words: without a speech model there is nothing to hear a cue in, and the agent pauses
by hand (the window and `companion live` say so).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from companion.events import FinalSegment, MetricsSnapshot, PartialText, StoringPaused, Word

# Words that belong to reading out card details: digits as a recogniser writes them, and the card's own words.
DIGIT_WORDS = frozenset({
    "zero", "oh", "o", "nought", "one", "two", "three", "four", "for", "five", "six", "seven", "eight", "nine",
    "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand",
    "double", "triple",
})
CARD_WORDS = frozenset({
    "card", "number", "numbers", "digits", "digit", "expiry", "expiration", "expires", "security", "code", "cvv",
    "cvc", "visa", "mastercard", "amex", "debit", "credit", "month", "year", "slash", "front", "back",
})


@dataclass(frozen=True)
class AutoPauseSettings:
    """`[privacy]` in coaching.toml; a playbook's `payment_cues` replaces the cue list for its calls."""

    enabled: bool = True
    cues: tuple[str, ...] = ()
    auto_resume_s: float = 20.0


def normalise(text: str) -> list[str]:
    """Lower-case words, apostrophes and punctuation dropped ("C.V.V." and "c v v" both read "cvv")."""
    return _join_spelled(re.findall(r"[a-z0-9]+", text.lower().replace("'", "")))


def _join_spelled(words: list[str]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for word in words + [""]:
        if len(word) == 1 and word.isalpha() and word not in ("a", "i", "o"):
            run.append(word)
            continue
        if len(run) >= 2:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if word:
            out.append(word)
    return out


def _cue_words(cues: Iterable[str]) -> list[tuple[str, ...]]:
    return [tuple(normalise(cue)) for cue in cues if normalise(cue)]


def _find(words: list[str], cue: tuple[str, ...]) -> Optional[int]:
    n = len(cue)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) == cue:
            return i
    return None


class PaymentCueWatcher:
    """A bus subscriber (subscribed before anything that keeps the call, so a pause is applied before the
    words that caused it are kept). `request(paused, t, cue)` asks the call to pause from call time `t`
    (the cue's first word) or to resume at `t`; `is_paused()` says whether storing is paused now."""

    def __init__(self, settings: AutoPauseSettings, request: Callable[[bool, float, Optional[str]], None]):
        self.settings = settings
        self._request = request
        self._cues = _cue_words(settings.cues)
        self._lock = threading.Lock()
        self._auto = False          # paused by this watcher (not by the agent's key)
        self._paused = False
        self._last_card_talk = 0.0  # call time of the latest digit or card word while paused by itself

    def use(self, settings: AutoPauseSettings) -> None:
        """New settings (the agent switched playbook or changed their settings) from the next words on."""
        with self._lock:
            self.settings, self._cues = settings, _cue_words(settings.cues)

    def __call__(self, event: object) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _on_paused(self, event: StoringPaused) -> None:
        with self._lock:
            self._paused = event.paused
            if not event.paused:
                self._auto = False

    def _on_final(self, event: FinalSegment) -> None:
        self._heard(event.words)

    def _on_partial(self, event: PartialText) -> None:
        self._heard(event.words, partial=True)

    def _heard(self, words: tuple[Word, ...], partial: bool = False) -> None:
        if not self.settings.enabled or not words:
            return
        said = [(w, normalise(w.word)) for w in words]
        flat: list[str] = []
        owner: list[Word] = []
        for word, parts in said:
            flat += parts
            owner += [word] * len(parts)
        with self._lock:
            if self._paused:
                if self._auto:
                    card_talk = [owner[i].end for i, w in enumerate(flat) if w in DIGIT_WORDS or w in CARD_WORDS
                                 or w.isdigit()]
                    if card_talk:
                        self._last_card_talk = max(self._last_card_talk, max(card_talk))
                return
            if partial:  # a partial's words may still change: the final decides
                return
            for cue in self._cues:
                at = _find(flat, cue)
                if at is not None:
                    start = owner[at].start
                    self._auto, self._paused = True, True
                    self._last_card_talk = max(w.end for w in words)
                    break
            else:
                return
        self._request(True, start, " ".join(cue))

    def _on_snapshot(self, event: MetricsSnapshot) -> None:
        with self._lock:
            due = self._auto and self._paused and event.t - self._last_card_talk >= self.settings.auto_resume_s
            if due:
                self._auto = False
        if due:
            self._request(False, event.t, None)


_HANDLERS: dict[type, Callable[[PaymentCueWatcher, object], None]] = {
    StoringPaused: PaymentCueWatcher._on_paused,  # type: ignore[dict-item]
    FinalSegment: PaymentCueWatcher._on_final,  # type: ignore[dict-item]
    PartialText: PaymentCueWatcher._on_partial,  # type: ignore[dict-item]
    MetricsSnapshot: PaymentCueWatcher._on_snapshot,  # type: ignore[dict-item]
}


def pause_notice(event: StoringPaused, how: Optional[str], auto_resume_s: float) -> str:
    """What the agent is told when storing pauses or resumes (the window's banner, `companion live`'s stderr):
    that nothing is kept, why it paused, and how it ends. `how`: the key that resumes, e.g. "'p' and Enter"."""
    key = f" ({how})" if how else ""
    if event.paused and event.automatic:
        said = f"\u201c{event.cue}\u201d was said" if event.cue else "card details were asked for"
        return (f"Paused for payment by itself: {said}. Nothing said is stored; it resumes after "
                f"{auto_resume_s:.0f} s without card details, or when you resume{key}. Coaching goes on.")
    if event.paused:
        return f"Paused for payment: nothing said is stored until you resume{key}. Coaching goes on."
    if event.automatic:
        return f"Storing again: no card details for {auto_resume_s:.0f} s."
    return "Storing again."
