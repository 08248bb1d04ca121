"""What a call document on the team server may hold (schema v2): the keys it keeps, each value's
type and range, and how big it may be. Defined once, here, and used three times:

- the server enforces them itself (companion.team.server_schema_v2 writes them into the table
  `cc.call_doc_fields`, which a trigger on `cc.calls` reads): a key not listed is dropped, a value of
  the wrong type or out of range refuses the whole call, with one line saying which;
- the agent's app shapes a document to them before sending (`shape`), so a call from its own store
  is never refused for them: what does not fit becomes null (or is cut, for long text);
- the supervisor's app reads a call through `items`, which keeps only well-formed entries, so a
  document a server took before these rules (or any other junk) cannot crash the replay.

Every value may be null. Times are seconds into the call, 0 to a day.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Optional

MAX_SECONDS = 24 * 3600.0          # a call is at most a day long
MAX_ITEMS = 200_000                 # entries in one list (a day's pace curve at one a second fits)
MAX_DOC_BYTES = 64 * 1024 * 1024    # the whole document, as JSON text (the bundles' limit too)
MAX_TEXT = 100_000                  # characters of one text (one segment, the root-cause note)
MAX_WPM = 1000.0
PARTIES = ("agent", "customer")
MOODS = ("calm", "tense", "upset")
NAME_PATTERN = "^[a-z][a-z0-9_]{0,63}$"  # a prompt kind: never anything a spreadsheet could run
SHARED_TEXT = ("segments", "root_cause")  # kept only when the team's policy shares text
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Field:
    kind: str                          # number | text | name | choice | boolean | list
    lo: Optional[float] = None         # number: smallest
    hi: Optional[float] = None         # number: largest; text and name: longest; list: most entries
    choices: tuple[str, ...] = ()      # choice: the values allowed

    @property
    def least(self) -> float:
        assert self.lo is not None, f"a {self.kind} field has its smallest"
        return self.lo

    @property
    def most(self) -> float:
        assert self.hi is not None, f"a {self.kind} field has its largest"
        return self.hi


SECONDS = Field("number", 0.0, MAX_SECONDS)
PARTY = Field("choice", choices=PARTIES)


def _text(n: int) -> Field:
    return Field("text", hi=n)


# the entries of each list, key by key
ITEMS: dict[str, dict[str, Field]] = {
    "turns": {"party": PARTY, "start": SECONDS, "end": SECONDS},
    "segments": {"party": PARTY, "start": SECONDS, "end": SECONDS, "text": _text(MAX_TEXT)},
    "prompts": {"t": SECONDS, "kind": Field("name", hi=64), "reason": _text(1000)},
    "interruptions": {"t": SECONDS, "by": PARTY, "overlap_s": SECONDS},
    "pace": {"t": SECONDS, "wpm": Field("number", 0.0, MAX_WPM)},
    "checklist": {"step_id": _text(200), "title": _text(1000), "t": SECONDS, "source": _text(32),
                  "done": Field("boolean")},
    "customer_states": {"t": SECONDS, "state": Field("choice", choices=MOODS)},
    "pauses": {"start": SECONDS, "end": SECONDS},
}
# the document's own keys (the numbers are copies of the row's columns; the lists are ITEMS)
TOP: dict[str, Field] = {
    "uuid": _text(64), "started_at": _text(64), "duration_s": SECONDS, "status": _text(32), "source": _text(200),
    "playbook": _text(200), "pace_source": _text(32), "agent_wpm": Field("number", 0.0, MAX_WPM),
    "agent_talk_ratio": Field("number", 0.0, 1.0), "longest_agent_monologue_s": SECONDS,
    "customer_mood": Field("choice", choices=MOODS), "upset_s": SECONDS, "root_cause": _text(MAX_TEXT),
    **{key: Field("list", hi=MAX_ITEMS) for key in ITEMS},
}


def valid(value: object, field: Field) -> bool:
    """Whether the server takes `value` (JSON as Python reads it) for `field`."""
    if value is None:
        return True
    if field.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (isinstance(value, int) or math.isfinite(value)) and field.least <= value <= field.most
    if field.kind == "text":
        return isinstance(value, str) and len(value) <= field.most
    if field.kind == "name":
        return isinstance(value, str) and len(value) <= field.most and _NAME.fullmatch(value) is not None
    if field.kind == "choice":
        return isinstance(value, str) and value in field.choices
    if field.kind == "boolean":
        return isinstance(value, bool)
    if field.kind == "list":
        return isinstance(value, list) and len(value) <= field.most and all(isinstance(v, dict) for v in value)
    return False


def fit(value: object, field: Field) -> object:
    """`value` as the server takes it: as it is when valid, text cut to its length, else None."""
    if field.kind == "text" and isinstance(value, str):
        return value[:int(field.most)]
    return value if valid(value, field) else None


def shape(doc: dict[str, Any], share_text: bool) -> dict[str, Any]:
    """`doc` (JSON-safe already: no NaN, string keys) with only the keys the server keeps and every
    value one it takes; without `share_text`, no segments and no root-cause note."""
    out: dict[str, Any] = {}
    for key, field in TOP.items():
        if key not in doc:
            continue
        if field.kind == "list":
            entries = doc[key] if isinstance(doc[key], list) else []
            spec = ITEMS[key]
            out[key] = [{k: fit(v, spec[k]) for k, v in e.items() if k in spec}
                        for e in entries if isinstance(e, dict)][:MAX_ITEMS]
        else:
            out[key] = fit(doc[key], field)
    if not share_text:
        out["segments"], out["root_cause"] = [], None
    return out


def number(value: object, field: Field = SECONDS) -> Optional[float]:
    """A finite number within `field`'s range as a float, else None."""
    return float(value) if isinstance(value, (int, float)) and field.kind == "number" and valid(value, field) else None


def items(doc: object, key: str, required: tuple[str, ...], order: Optional[str] = None) -> list[dict[str, Any]]:
    """The well-formed entries of the list `key` of a stored document: every key of ITEMS[key]
    present (None when missing or not valid), entries without one of `required` left out, sorted
    by `order` (a time key). Never raises, whatever the document holds."""
    spec = ITEMS[key]
    value = doc.get(key) if isinstance(doc, dict) else None
    out: list[dict[str, Any]] = []
    for entry in value if isinstance(value, list) else ():
        if not isinstance(entry, dict):
            continue
        clean: dict[str, Any] = {}
        for k, field in spec.items():
            v = entry.get(k)
            clean[k] = (number(v, field) if field.kind == "number"
                        else v if valid(v, field) and not isinstance(v, list) else None)
        if all(clean[k] is not None for k in required):
            out.append(clean)
    if order is not None:
        out.sort(key=lambda e: e[order])
    return out
