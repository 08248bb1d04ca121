"""What a call amounted to: collected from the event bus, rendered as JSON or a summary.

The JSON document is the one `companion analyze --json` prints (schema in the README).
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from typing import Any, Callable, Optional

from companion.events import (
    CallEnded,
    CustomerState,
    FinalSegment,
    Interruption,
    MetricsSnapshot,
    MonitorFailed,
    Prompt,
    TranscriberFailed,
    Turn,
    Word,
)
from companion.timeline import clock
from companion.timeline import state_spans as state_spans  # (from here too)


class ReportCollector:
    """A bus subscriber that keeps what the report needs."""

    def __init__(self, redaction: bool = True) -> None:
        self.redaction = redaction   # the turns' text redacted as the store keeps it (Settings → Privacy)
        self.turns: list[Turn] = []
        self.interruptions: list[Interruption] = []
        self.prompts: list[Prompt] = []
        self.pace: list[tuple[float, float]] = []
        self.last: Optional[MetricsSnapshot] = None
        self.ended: Optional[CallEnded] = None
        self.failures: list[str] = []
        self.segments: list[FinalSegment] = []
        self.customer_states: list[CustomerState] = []
        self._done = threading.Event()

    def __call__(self, event: object) -> None:
        keep = _KEEP.get(type(event))
        if keep is not None:
            keep(self, event)

    def _metrics(self, event: MetricsSnapshot) -> None:
        self.last = event
        if event.pace_wpm is not None:
            self.pace.append((event.t, event.pace_wpm))

    def _ended(self, event: CallEnded) -> None:
        self.ended = event
        self._done.set()

    def _failure(self, event: MonitorFailed | TranscriberFailed) -> None:
        self.failures.append(event.message)

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self._done.wait(timeout)

    def turn_texts(self, turns: list[Turn]) -> list[Optional[str]]:
        """Each turn's recognised words (by word midpoint; a word between turns joins the nearest
        turn of its party). None for every turn when nothing was transcribed."""
        if not self.segments:
            return [None] * len(turns)
        segments = self.segments
        if self.redaction:
            from companion.window_redaction import judged_words

            segments = [dataclasses.replace(s, words=tuple(dataclasses.replace(w, word=said) for w, said in zip(s.words, kept)))
                        for s, kept in zip(segments, judged_words(segments))]
        words: dict[int, list[Word]] = {i: [] for i in range(len(turns))}
        for party in {segment.party for segment in segments}:
            own = sorted((i for i, t in enumerate(turns) if t.party == party), key=lambda i: turns[i].start)
            if not own:
                continue
            starts = [turns[i].start for i in own]
            for segment in (s for s in segments if s.party == party):
                for word in segment.words:
                    mid = (word.start + word.end) / 2.0
                    # the turn that starts at or before the word, or the next one: whichever is nearer
                    k = bisect.bisect_right(starts, mid)
                    near = [own[j] for j in (k - 1, k) if 0 <= j < len(own)]
                    best = min(near, key=lambda i: 0.0 if turns[i].start <= mid <= turns[i].end
                               else min(abs(mid - turns[i].start), abs(mid - turns[i].end)))
                    words[best].append(word)
        return [" ".join(w.word for w in sorted(words[i], key=lambda w: w.start)) for i in range(len(turns))]

    def to_json(self, file: str, duration_s: float, agent_wpm: Optional[float], pace_source: str) -> dict[str, Any]:
        last = self.last
        turns = sorted(self.turns, key=lambda t: (t.start, t.party))
        texts = self.turn_texts(turns)
        return {
            "file": file,
            "duration_s": round(duration_s, 3),
            "pace_source": pace_source,
            "agent_wpm": None if agent_wpm is None else round(agent_wpm, 1),
            "agent_talk_ratio": round(last.talk_share_call or 0.0, 4) if last else 0.0,
            "longest_agent_monologue_s": round(last.longest_monologue_s, 2) if last else 0.0,
            "turns": [{"party": t.party, "start": t.start, "end": t.end, "text": text} for t, text in zip(turns, texts)],
            "interruptions": [
                {"t": i.t, "overlap_s": i.overlap_s, "by": i.by} for i in sorted(self.interruptions, key=lambda i: i.t)
            ],
            "prompts": [{"t": p.t, "kind": p.kind, "reason": p.reason} for p in self.prompts],
            "pace": [{"t": t, "wpm": w} for t, w in self.pace],
            "customer_states": [{"t": c.t, "state": c.state} for c in self.customer_states],
        }


# What the report keeps of each event type; the others (partials, line states, ticks…) it has no use for.
_KEEP: dict[type, Callable[[ReportCollector, Any], None]] = {
    Turn: lambda r, e: r.turns.append(e),
    Interruption: lambda r, e: r.interruptions.append(e),
    Prompt: lambda r, e: r.prompts.append(e),
    MetricsSnapshot: ReportCollector._metrics,
    CallEnded: ReportCollector._ended,
    FinalSegment: lambda r, e: r.segments.append(e),
    CustomerState: lambda r, e: r.customer_states.append(e),
    MonitorFailed: ReportCollector._failure,
    TranscriberFailed: ReportCollector._failure,
}


def summary_text(doc: dict[str, Any], model_note: Optional[str] = None) -> str:
    """A short human summary of an analysis document (`model_note`: why there is no transcript)."""
    lines = [f"{doc['file']} — {clock(doc['duration_s'])}"]
    if model_note:
        lines.append(f"  Transcript:      {model_note}")
    wpm = doc["agent_wpm"]
    source = "from the words" if doc["pace_source"] == "asr" else "acoustic estimate"
    lines.append(f"  Agent pace:      {'n/a' if wpm is None else f'{wpm:.0f} words/min'} ({source})")
    lines.append(f"  Agent talk:      {doc['agent_talk_ratio']:.0%} of the talk")
    lines.append(f"  Longest monologue: {doc['longest_agent_monologue_s']:.0f} s")
    by_agent = [i for i in doc["interruptions"] if i["by"] == "agent"]
    by_customer = [i for i in doc["interruptions"] if i["by"] == "customer"]
    lines.append(f"  Interruptions:   {len(by_agent)} by the agent, {len(by_customer)} by the customer")
    for i in doc["interruptions"]:
        lines.append(f"    {clock(i['t'])}  {i['by']} talked over for {i['overlap_s']:.1f} s")
    lines.append(f"  Customer:        {mood_summary(doc.get('customer_states', []), doc['duration_s'])}")
    lines.append(f"  Prompts:         {len(doc['prompts'])}")
    for p in doc["prompts"]:
        lines.append(f"    {clock(p['t'])}  {p['kind']:<15} {p['reason']}")
    return "\n".join(lines)


def mood_summary(states: list[dict[str, Any]], duration_s: float) -> str:
    """"upset for 1:10 (from 0:52), then calm" — or how the customer sounded when never upset."""
    if not states:
        return "not enough of their speech to read"
    upset = [(a, b) for a, b, state in state_spans(states, duration_s) if state == "upset"]
    if not upset:
        tense = any(c["state"] == "tense" for c in states)
        return "tense at times, never upset" if tense else "calm throughout"
    total = sum(b - a for a, b in upset)
    return f"upset for {clock(total)} (from {clock(upset[0][0])}), last {states[-1]['state']}"
