"""The step checklist of a call: a step is ticked when the agent says something that means it, or by hand.

What the agent says is matched to each step's cue phrases by meaning rather than letter for letter: the words are
brought to one form (contractions spelled out, word endings and sound-alike words a recogniser confuses made
the same, fillers dropped), each word the playbooks do not know is read as the nearest word they do (fuzzy,
with rapidfuzz), and a cue matches a stretch of the line that holds its words in order with at most a word or
two between (a token-level edit distance). Where the call is matters: the greeting shows no later step; a step
just ahead of the conversation takes any cue; two steps ahead needs a full cue; further ahead only a near-exact
one. A "near" cue (a short acknowledgement, "my name is") shows its step only when the call is there.

Steps no phrase shows are the flow's: an "opening" step (adjust your mindset) is done as the call's first words
are said; an "after-call" step (use the feedback) is done in the summary, with the root-cause note.

The current step is where the conversation is: the first step not done after the furthest step done.
The measured precision and recall per step are in docs/checklist.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

from companion.events import FinalSegment, StepTicked, TickSource
from companion.playbooks import Playbook, Step, normalise

# --- words brought to one form ----------------------------------------------------------------------------------
_CONTRACTIONS = [
    (r"\bcan't\b", "can not"), (r"\bcannot\b", "can not"), (r"\bwon't\b", "will not"), (r"\bshan't\b", "shall not"),
    (r"\bain't\b", "is not"), (r"n't\b", " not"), (r"\blet's\b", "let us"), (r"\bi'm\b", "i am"), (r"'re\b", " are"),
    (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'d\b", " would"), (r"'s\b", " is"), (r"'", ""),
]
# the same words as a recogniser writes them without an apostrophe, and sound-alikes it confuses
_SAME = {
    "im": "i am", "ive": "i have", "id": "i would", "dont": "do not", "doesnt": "does not", "didnt": "did not",
    "cant": "can not", "wont": "will not", "isnt": "is not", "wasnt": "was not", "lets": "let us", "thats": "that is",
    "whats": "what is", "heres": "here is", "theres": "there is", "youre": "you are", "youll": "you will",
    "youve": "you have", "theyre": "they are", "ok": "okay", "alright": "all right",
    # irregular past forms, to the word's plain form as the stemmer does for the regular ones
    "sent": "send", "told": "tell", "said": "say", "got": "get", "gave": "give", "made": "make", "took": "take",
    "came": "come", "went": "go", "spoke": "speak", "heard": "hear", "understood": "understand", "rang": "ring",
    "brought": "bring", "kept": "keep", "thought": "think", "felt": "feel", "paid": "pay", "began": "begin",
    "apologize": "apologise", "apologized": "apologised", "apologizing": "apologising", "realize": "realise",
    "summarize": "summarise", "prioritize": "prioritise", "recognize": "recognise",
}
# sequences said the same way: one form for both
_SAME_SOUND_PHRASES = [(r"\byou are\b", "youre"), (r"\byour\b", "youre"), (r"\bthey are\b", "there"),
                       (r"\btheir\b", "there"), (r"\b(must|could|would|should) of\b", r"\1 have"),
                       (r"\b(mm hmm|mm hm|mhm|mmhmm|uh huh|uhhuh|uh hu|mm)\b", "mhm"), (r"\bin to\b", "into")]
_SAME_SOUND = {"hear": "here", "too": "to", "two": "to", "four": "for", "write": "right", "buy": "by", "bye": "by",
               "weight": "wait", "won": "one", "sea": "see"}
# words that carry no meaning for a step: fillers, and the intensifiers people add anywhere
_DROPPED = {"um", "umm", "uh", "er", "erm", "ah", "hmm", "unk", "just", "really", "very", "totally", "completely",
            "actually", "basically", "truly", "quite", "honestly", "absolutely", "incredibly", "genuinely", "extremely",
            "please", "well", "oh"}
_NEGATIONS = {"not", "never", "no", "nothing", "nobody"}
# what a call's opening words hold: a line with one of them, before the customer has said anything, is a greeting
GREETINGS = ("hello", "hi", "hey", "good morning", "good afternoon", "good evening", "thank you for calling",
             "thanks for calling", "thank you for holding", "thanks for holding", "thank you for waiting", "welcome to",
             "you are through to", "you are speaking to", "you are speaking with", "my name is", "how can i help",
             "how may i help", "what can i do for you")


def _stem(word: str) -> str:
    """A word's plain form, well enough to compare: tense, plural and -ing endings off (both sides alike)."""
    if len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


@lru_cache(maxsize=4096)
def words_of(text: str) -> tuple[str, ...]:
    """`text` as the matcher compares it: one form per word, fillers out."""
    text = normalise(text.replace("-", " "))
    for pattern, plain in _CONTRACTIONS:
        text = re.sub(pattern, plain, text)
    text = " ".join(_SAME.get(w, w) for w in text.split())
    for pattern, same in _SAME_SOUND_PHRASES:
        text = re.sub(pattern, same, text)
    out = []
    for word in text.split():
        if word in _DROPPED:
            continue
        word = _SAME_SOUND.get(word, word)
        word = _stem(word)
        out.append(_SAME_SOUND.get(word, word))
    return tuple(out)


# --- cues and evidence ----------------------------------------------------------------------------------------------
STRONG = 0.9           # a cue's words in order with at most one word between (a longer cue) or none: near exact
NEGATION_REACH = 2     # a "not" this many words before a cue negates it too ("I can't really send"; "oh no, I'm
                       # sorry" is not one)
NEAR_BEHIND = -math.inf  # a near cue counts at any step behind the current one (acknowledgements go on all call)


def _needed(length: int) -> float:
    """The least match for a cue of `length` words: two words exactly; three with one word between; four or more
    with one missing or one more between."""
    return 1.0 if length <= 2 else 0.85 if length == 3 else 0.8


@dataclass(frozen=True)
class Cue:
    phrase: str                  # as the playbook writes it (normalised)
    words: tuple[str, ...]
    near: bool                   # a near cue: only where the call is


@dataclass(frozen=True)
class Evidence:
    """A step shown by a line: the cue, how well it matched, and where in the line."""

    step_id: str
    phrase: str
    score: float
    near: bool
    start: int
    end: int                     # the matched words are [start, end)
    length: int                  # the cue's words

    @property
    def strong(self) -> bool:
        return not self.near and self.score >= STRONG


def _snap_cutoff(word: str) -> Optional[float]:
    """How close an unknown word must be to a playbook's word to be read as it (short words: never)."""
    return None if len(word) < 4 else 75.0 if len(word) <= 5 else 80.0


class CueMatcher:
    """A playbook's cues, ready to match lines against."""

    def __init__(self, playbook: Playbook):
        self.playbook = playbook
        self.index = {s.id: n for n, s in enumerate(playbook.steps)}
        self.cues: dict[str, list[Cue]] = {}
        self.unless: dict[str, set[str]] = {}
        for step in playbook.steps:
            cues = [Cue(c, words_of(c), False) for c in step.cues] + [Cue(c, words_of(c), True) for c in step.near_cues]
            self.cues[step.id] = [c for c in cues if c.words]
            self.unless[step.id] = {w for phrase in step.unless for w in words_of(phrase)}
        self.vocabulary = sorted({w for cues in self.cues.values() for c in cues for w in c.words})
        self._column = {w: n for n, w in enumerate(self.vocabulary)}

    def near_words(self, said: tuple[str, ...]) -> list[dict[str, float]]:
        """For each said word no cue has, the playbook words near enough to be what was meant, with how near
        (fuzzy, rapidfuzz): a recogniser's "lion" may be "line"; a short word is only ever itself."""
        out: list[dict[str, float]] = [{} for _ in said]
        unknown = [n for n, w in enumerate(said) if w not in self._column and _snap_cutoff(w) is not None]
        if not unknown or not self.vocabulary:
            return out
        scores = process.cdist([said[n] for n in unknown], self.vocabulary, scorer=fuzz.ratio, dtype=np.uint8)
        for row, n in enumerate(unknown):
            for column in np.nonzero(scores[row] >= _snap_cutoff(said[n]))[0]:
                out[n][self.vocabulary[column]] = float(scores[row, column])
        return out

    @staticmethod
    def read(cue: Cue, said: tuple[str, ...], near: list[dict[str, float]]) -> tuple[str, ...]:
        """The line's words as `cue` reads them: a word no cue has is read as the cue's own word nearest to it, if
        any is near enough ("direct lion" is "direct line" to the cue that says "line", and "lion" to every other)."""
        wanted = set(cue.words)
        out = []
        for word, options in zip(said, near):
            mine = [(score, w) for w, score in options.items() if w in wanted]
            out.append(max(mine)[1] if mine else word)
        return tuple(out)

    @staticmethod
    def _match(cue: Cue, said: tuple[str, ...]) -> Optional[tuple[float, int, int]]:
        """The best stretch of `said` holding the cue's words in order: (score, start, end), or None below what the
        cue needs. The stretch must hold the cue's last word (what "that must be …" is about), and no "not" in or
        just before it that the cue does not have ("I can't send" is not "I can send")."""
        words, k = cue.words, len(cue.words)
        wanted, last = set(words), words[-1]
        best = None
        for start in range(len(said)):
            if said[start] not in wanted:
                continue
            if any(w in _NEGATIONS - {"no"} and w not in wanted for w in said[max(0, start - NEGATION_REACH):start]):
                continue
            for end in range(start + max(1, k - 1), min(len(said), start + k + 2) + 1):
                window = said[start:end]
                if window[-1] not in wanted or last not in window:
                    continue
                if any(w in _NEGATIONS and w not in wanted for w in window):
                    continue
                score = Indel.normalized_similarity(words, window)
                if best is None or score > best[0]:
                    best = (score, start, end)
        if best is None or best[0] < _needed(k) - 1e-9:
            return None
        return best

    def evidence(self, text: str) -> list[Evidence]:
        """Each step's best cue in `text` (whatever the call's phase), a step ruled out by its `unless` words left out."""
        said = words_of(text)
        near = self.near_words(said)
        present = set(said).union(*near)
        found = []
        for step in self.playbook.steps:
            if self.unless[step.id] & set(said):
                continue
            matches = []
            for cue in self.cues[step.id]:
                if cue.words[-1] not in present:
                    continue  # a cue matches only with its last word said
                hit = self._match(cue, self.read(cue, said, near))
                if hit is not None:
                    score, start, end = hit
                    matches.append(Evidence(step.id, cue.phrase, score, cue.near, start, end, len(cue.words)))
            if matches:
                found.append(max(matches, key=lambda e: (not e.near, e.score, e.length)))
        return found

    def shown(self, text: str, current: Optional[str], customer_heard: bool = True) -> list[Evidence]:
        """The steps `text` shows when the call is at step `current` (None: past the last), the customer heard yet
        or not (a line with greeting words before the customer has spoken is the greeting).

        Ahead of the current step the evidence must be stronger the further it is; where two steps' cues cover the
        same words, the stronger match and then the longer cue says what was meant ("I understand why you're upset"
        is empathy, not just "I understand")."""
        at = self.index.get(current, len(self.playbook.steps)) if current is not None else len(self.playbook.steps)
        greeting = not customer_heard and is_greeting(text)
        accepted: list[Evidence] = []
        candidates = []
        for ev in self.evidence(text):
            ahead = self.index[ev.step_id] - at
            if greeting and ahead > 1:
                continue  # the greeting shows at most the first step: "my name is" is not step 6's contact details
            if ev.near and not NEAR_BEHIND <= ahead <= 1:
                continue
            if ahead == 2 and ev.near:
                continue
            if ahead >= 3 and not ev.strong:
                continue
            candidates.append(ev)
        for ev in sorted(candidates, key=lambda e: (not e.strong, -e.length, -e.score)):
            if any(o.start < ev.end and ev.start < o.end for o in accepted):
                continue  # those words already said what another step's better cue means
            accepted.append(ev)
        return sorted(accepted, key=lambda e: self.index[e.step_id])


def is_greeting(text: str) -> bool:
    said = words_of(text)
    return any(_holds(said, words_of(g)) for g in GREETINGS)


def _holds(said: tuple[str, ...], words: tuple[str, ...]) -> bool:
    return any(said[n:n + len(words)] == words for n in range(len(said) - len(words) + 1))


# --- where the call is ------------------------------------------------------------------------------------------------
def current_step(steps: Sequence[Step], done: Iterable[str]) -> Optional[str]:
    """Where the conversation is: an opening step not done yet (the call has not begun, or has just switched to
    this playbook); else the first step not done after the furthest step done (a step skipped stays behind);
    when every step after it is done, the first one not done; None when all are."""
    done = set(done)
    opening = next((s.id for s in steps if s.flow == "opening" and s.id not in done), None)
    if opening is not None:
        return opening
    ids = [s.id for s in steps]
    furthest = max((n for n, sid in enumerate(ids) if sid in done), default=-1)
    return next((sid for sid in ids[furthest + 1:] if sid not in done), next((sid for sid in ids if sid not in done), None))


class ChecklistTracker:
    def __init__(self, playbook: Playbook):
        self.playbook = playbook
        self.matcher = CueMatcher(playbook)
        self.done: dict[str, StepTicked] = {}
        self.begun = False            # the call's first words were heard (by this tracker)
        self.heard_customer = False   # the customer has spoken: the greeting is over

    @property
    def current(self) -> Optional[str]:
        """The step the conversation is at (current_step)."""
        return current_step(self.playbook.steps, self.done)

    def on_segment(self, segment: FinalSegment) -> list[StepTicked]:
        """A line of the call: its first words tick the opening steps; the agent's lines tick the steps they show
        (each once)."""
        ticked = []
        if not self.begun:
            self.begun = True
            for step in self.playbook.steps:
                if step.flow == "opening" and step.id not in self.done:
                    ticked.append(self._tick(step, segment.start, None))
        if segment.party != "agent":
            self.heard_customer = True
            return ticked
        for ev in self.matcher.shown(segment.text, self.current, customer_heard=self.heard_customer):
            if ev.step_id not in self.done:
                ticked.append(self._tick(self.playbook.step(ev.step_id), segment.end, ev.phrase))
        return ticked

    def _tick(self, step: Step, t: float, phrase: Optional[str]) -> StepTicked:
        tick = StepTicked(round(t, 2), step.id, step.title, TickSource.AUTO, phrase)
        self.done[step.id] = tick
        return tick

    def set_done(self, step_id: str, t: float, done: bool = True) -> Optional[StepTicked]:
        """A tick (or untick) by hand; None when nothing changes."""
        step = self.playbook.step(step_id)
        if done == (step_id in self.done):
            return None
        tick = StepTicked(round(t, 2), step.id, step.title, TickSource.MANUAL, None, done)
        if done:
            self.done[step_id] = tick
        else:
            del self.done[step_id]
        return tick


# --- adherence ----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Adherence:
    """How closely a call followed its playbook: the steps done, and the most of them done in the playbook's order."""

    in_order: int
    done: int
    total: int

    @property
    def score(self) -> float:
        return self.in_order / self.total if self.total else 0.0

    def text(self) -> str:
        return f"{self.score:.0%} — {self.in_order} of {self.total} steps done in order ({self.done} done)"


def final_ticks(ticks: Iterable[tuple[str, float, bool]]) -> dict[str, float]:
    """Each step done at the end of the call, with when it was (last) ticked done: ticks are (step_id, t, done)."""
    state: dict[str, float] = {}
    for step_id, t, done in sorted(ticks, key=lambda k: k[1] if isinstance(k[1], (int, float)) else math.inf):
        if done:
            state[step_id] = t if isinstance(t, (int, float)) else math.inf
        else:
            state.pop(step_id, None)
    return state


def adherence(steps: Sequence[Step], ticks: Iterable[tuple[str, float, bool]], notes_written: bool) -> Adherence:
    """The call's adherence: its after-call steps are done when the root-cause note is written; "in order" is the
    longest run of done steps, in the playbook's order, whose ticks came in that order (a step done late breaks it)."""
    done = final_ticks(ticks)
    times = []
    for step in steps:
        if step.flow == "after-call" and notes_written:
            times.append(math.inf)
        elif step.id in done:
            times.append(done[step.id])
    longest: list[float] = []  # longest non-decreasing run by patience sorting: longest[n] = least last time of a run of n+1
    for t in times:
        n = next((i for i, last in enumerate(longest) if last > t), len(longest))
        if n == len(longest):
            longest.append(t)
        else:
            longest[n] = t
    return Adherence(len(longest), len(times), len(steps))
