"""`companion calls export ID --format html`: a coaching report a supervisor reads without help.

One self-contained page (inline CSS and SVG; no scripts, fonts, images or links to fetch) that
also prints on A4: the call's key numbers as cards (the customer's mood among them, report_mood),
the timeline (report_timeline), the transcript with each prompt (and each message a supervisor sent during the call) where it came, the checklist as it
was ticked with the call's adherence to its playbook (companion.checklist), the notes and the supervisor's comments. Every piece of text from the call or its users is HTML-escaped where it is placed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html import escape
from typing import Any, Optional, overload

from companion.checklist import Adherence, adherence, final_ticks
from companion.errors import ConfigError
from companion.playbooks import Playbook, find_playbook
from companion.prompt_kinds import PROMPT_KINDS, prompt_kind
from companion.reports import report_mood
from companion.reports.report_timeline import (
    INTERRUPTION_COLOURS,
    PARTY_COLOURS,
    Limits,
    default_limits,
    legend_html,
    talked_over,
    timeline_svg,
)
from companion.store.calls import CallDocument
from companion.timeline import PARTY_NAMES, clock, speech_without_text

PACE_SOURCES = {"asr": "from words", "acoustic": "from sound"}
TICK_SOURCES = {"auto": "automatically", "manual": "by hand"}
NO_TIME = "—"


def transcript_lines(doc: CallDocument) -> list[dict[str, Any]]:
    """What was said, line by line: the recognised segments, or, with no transcript, each turn as
    who spoke and for how long (`transcribed` False). Every export's transcript comes from here."""
    segments = doc["call"]["segments"]
    if segments:
        return [dict(s, transcribed=True) for s in segments]
    return [{"party": t["party"], "start": t["start"], "end": t["end"], "transcribed": False,
             "text": speech_without_text(t["party"], t["start"], t["end"])} for t in doc["turns"]]


def _party(party: str) -> str:
    return PARTY_NAMES.get(party, str(party).capitalize())


def _chip(kind: str) -> str:
    k = prompt_kind(kind)
    return f'<span class="chip" style="background:{escape(k.colour)};color:{escape(k.text_colour)}">{escape(k.label)}</span>'


def _time(t: object) -> str:
    """mm:ss, or a dash for a time a damaged or foreign store left out."""
    return clock(t) if isinstance(t, (int, float)) else NO_TIME


# --- the cards ------------------------------------------------------------------------------------
def _card(title: str, value: str, *details: str, cls: str = "", unit: str = "", edge: str = "") -> str:
    """A key number; `title`, `value` and `unit` are plain text, `details` already-escaped HTML lines;
    `edge` a colour for the card's left edge."""
    lines = "".join(f'<div class="detail">{d}</div>' for d in details)
    shown = escape(value) + (f' <span class="unit">{escape(unit)}</span>' if unit else "")
    style = f' style="border-left: 6px solid {escape(edge)}"' if edge else ""
    return (f'<div class="card {cls}"{style}><div class="card-title">{escape(title)}</div><div class="value">{shown}</div>'
            f'{lines}</div>')


def _talk_card(doc: CallDocument) -> str:
    if not doc["turns"]:
        return _card("Talk share", NO_TIME, "nobody spoke", cls="talk")
    share = doc["agent_talk_ratio"]
    split = escape(f"{_party('agent')} {share:.0%} · {_party('customer')} {1 - share:.0%}")
    longest = escape(clock(doc["longest_agent_monologue_s"]))
    return _card("Talk share", f"{share:.0%}", split, f"longest monologue {longest}", cls="talk")


def _pace_card(doc: CallDocument, limits: Limits) -> str:
    wpm = doc["agent_wpm"]
    source = PACE_SOURCES.get(doc["pace_source"], str(doc["pace_source"]))
    return _card("Pace", NO_TIME if wpm is None else f"{wpm:.0f}", escape(source), f"target {limits.target_text} words/min",
                 cls="pace", unit="" if wpm is None else "words/min")


def _interruptions_card(doc: CallDocument) -> str:
    by = Counter(i["by"] for i in doc["interruptions"])
    lines = [f'{escape(talked_over(party))}: <b class="by-{party}">{by[party]}</b>' for party in INTERRUPTION_COLOURS]
    return _card("Interruptions", str(sum(by.values())), *lines, cls="interruptions")


def _mood_card(doc: CallDocument) -> str:
    value, summary, colour = report_mood.card_text(doc)
    state = report_mood.worst_state(doc) or "unknown"
    return _card(report_mood.BAND_NAME, value, escape(summary), cls=f"mood mood-{state}", edge=colour)


def _prompts_card(doc: CallDocument) -> str:
    counts = Counter(p["kind"] for p in doc["prompts"])
    order = [k for k in PROMPT_KINDS if k in counts] + sorted(k for k in counts if k not in PROMPT_KINDS)
    lines = [f'<span data-kind="{escape(k)}">{_chip(k)} × {counts[k]}</span>' for k in order]
    return _card("Prompts", str(len(doc["prompts"])), *(lines or ["none on this call"]), cls="prompts")


def call_playbook(doc: CallDocument) -> Optional[Playbook]:
    """The playbook the call ended with, as this machine has it (None: no playbook, or one not found here)."""
    playbook_id = doc["call"].get("playbook")
    if not playbook_id:
        return None
    try:
        return find_playbook(playbook_id)
    except ConfigError:
        return None


@overload
def call_adherence(doc: CallDocument, playbook: Playbook) -> Adherence: ...
@overload
def call_adherence(doc: CallDocument, playbook: Optional[Playbook]) -> Optional[Adherence]: ...
def call_adherence(doc: CallDocument, playbook: Optional[Playbook]) -> Optional[Adherence]:
    """How closely the call followed its playbook: its ticks, and the root-cause note for the after-call steps."""
    if playbook is None:
        return None
    ticks = [(t["step_id"], t["t"], bool(t["done"])) for t in doc["call"]["checklist"]]
    return adherence(playbook.steps, ticks, bool((doc["call"].get("notes") or "").strip()))


def _checklist_card(doc: CallDocument, playbook: Optional[Playbook]) -> str:
    result = call_adherence(doc, playbook)
    if result is None:
        why = "no playbook on this call" if not doc["call"].get("playbook") else "its playbook is not on this machine"
        return _card("Checklist", NO_TIME, escape(why), cls="adherence")
    return _card("Checklist", f"{result.score:.0%}", escape(f"{result.in_order} of {result.total} steps in order"),
                 escape(f"{result.done} done"), cls="adherence")


def _cards(doc: CallDocument, limits: Limits, playbook: Optional[Playbook]) -> str:
    how = escape(f"{doc['call']['status']} · {doc['call']['source']}")
    cards = [_card("Duration", clock(doc["duration_s"]), how, cls="duration"), _talk_card(doc), _pace_card(doc, limits),
             _interruptions_card(doc), _mood_card(doc), _checklist_card(doc, playbook), _prompts_card(doc)]
    return f'<section id="cards" class="cards">{"".join(cards)}</section>'


# --- the sections -----------------------------------------------------------------------------
def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{escape(title)}</h2>{body}</section>'


def _table(cls: str, head: tuple[str, ...], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="{cls}"><thead><tr>{cells}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _td(cls: str, text: object = "", markup: str = "") -> str:
    """A cell of plain `text` (escaped here), after any `markup` already made safe."""
    return f'<td class="{cls}">{markup}{escape(str(text or ""))}</td>'


def _tr(cls: str, *cells: str, kind: Optional[str] = None) -> str:
    data = f' data-kind="{escape(kind)}"' if kind is not None else ""
    return f'<tr class="{cls}"{data}>{"".join(cells)}</tr>'


def _line_row(line: dict[str, Any]) -> str:
    said = "" if line["transcribed"] else " no-text"
    return _tr(f"line {escape(str(line['party']))}{said}", _td("t", _time(line["start"])), _td("who", _party(line["party"])),
               _td("text", line["text"]))


def _prompt_row(prompt: dict[str, Any]) -> str:
    return _tr("prompt", _td("t", _time(prompt["t"])), _td("who", "Prompt"),
               _td("text", prompt["reason"], markup=_chip(prompt["kind"]) + " "), kind=prompt["kind"])


def _message_row(message: dict[str, Any]) -> str:
    """A supervisor's message that reached the agent during the call (the team live): not a prompt."""
    return _tr("supervisor-message", _td("t", _time(message["t"])), _td("who", f"Supervisor {message['sender']}"),
               _td("text", message["text"], markup='<span class="chip message">Message</span> '))


def _transcript(doc: CallDocument) -> str:
    """The lines in order, each prompt (and each supervisor's message) between the line it came during and the next."""
    lines = transcript_lines(doc)
    rows = [(line["start"], 0, _line_row(line)) for line in lines]
    rows += [(p["t"], 1, _prompt_row(p)) for p in doc["prompts"]]
    rows += [(m["t"], 2, _message_row(m)) for m in doc["call"].get("supervisor_messages") or []
             if isinstance(m.get("t"), (int, float))]
    body = _table("transcript", ("Time", "Who", "What was said"), [r for _, _, r in sorted(rows, key=lambda r: r[:2])],
                  "Nothing was said on this call.")
    untranscribed = lines and not lines[0]["transcribed"]
    note = '<p class="caption">No speech model transcribed this call: each line says who spoke and for how long.</p>'
    return _section("transcript", "Transcript", (note if untranscribed else "") + body)


def _tick_row(tick: dict[str, Any], flows: dict[str, str]) -> str:
    done = bool(tick["done"])
    how = TICK_SOURCES.get(tick["source"], tick["source"])
    if tick["source"] == "auto" and flows.get(tick["step_id"]) == "opening":
        how = "as the call began"
    return _tr(f"tick {'done' if done else 'undone'}", _td("t", _time(tick["t"])), _td("step", tick["title"]),
               _td("how", how), _td("state", "✓ done" if done else "✗ undone"))


def _adherence_lines(doc: CallDocument, playbook: Playbook) -> str:
    """The adherence in words, the steps not done, and the after-call step the notes do."""
    result = call_adherence(doc, playbook)
    notes = bool((doc["call"].get("notes") or "").strip())
    done = final_ticks((t["step_id"], t["t"], bool(t["done"])) for t in doc["call"]["checklist"])
    missing = [s.title for s in playbook.steps if (s.id not in done and s.flow != "after-call")
               or (s.flow == "after-call" and not notes)]
    lines = [f'<p class="adherence">Adherence <b>{result.score:.0%}</b>: {result.in_order} of {result.total} steps '
             f"done in the playbook's order ({result.done} done).</p>"]
    if missing:
        lines.append(f'<p class="caption not-done">Not done: {escape("; ".join(missing))}.</p>')
    number = {s.id: n for n, s in enumerate(playbook.steps, 1)}
    for step in playbook.steps:
        if step.flow == "after-call":
            lines.append(f'<p class="caption">Step {number[step.id]}, “{escape(step.title)}”, is done after the call, '
                         "by the notes below.</p>")
    return "".join(lines)


def _checklist(doc: CallDocument, playbook: Optional[Playbook]) -> str:
    playbook_id = doc["call"].get("playbook")
    caption = f'<p class="caption">Playbook: {escape(playbook_id)}</p>' if playbook_id else ""
    if playbook is not None:
        caption += _adherence_lines(doc, playbook)
    flows = {s.id: s.flow for s in playbook.steps} if playbook is not None else {}
    table = _table("checklist", ("Time", "Step", "Ticked", "State"), [_tick_row(t, flows) for t in doc["call"]["checklist"]],
                   "No checklist step was ticked on this call.")
    return _section("checklist", "Checklist", caption + table)


def _notes(doc: CallDocument) -> str:
    notes = doc["call"]["notes"]
    body = f'<p class="notes">{escape(notes)}</p>' if notes else '<p class="empty">No notes.</p>'
    return _section("notes", "Notes — root cause", body)


def _comment_row(comment: dict[str, Any]) -> str:
    return _tr("comment", _td("t", _time(comment["t"])), _td("author", comment["author"] or "—"), _td("text", comment["text"]),
               _td("written", _written(comment.get("created_at"))))


def _written(iso: object) -> str:
    """When a comment was written, in this machine's local time to the minute ("2026-01-05 10:12"), not an ISO stamp."""
    if not isinstance(iso, str) or not iso:
        return NO_TIME
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso[:16].replace("T", " ")


def _comments(doc: CallDocument) -> str:
    rows = [_comment_row(c) for c in doc["call"].get("comments", [])]
    table = _table("comments", ("Time", "Author", "Comment", "Written"), rows, "No comments yet.")
    return _section("comments", "Supervisor comments", table)


def _header(doc: CallDocument) -> str:
    call = doc["call"]
    started = f"started {_written(call['started_at'])}" if call.get("started_at") else None  # local time, readable
    facts = [started, doc["file"], f"playbook {call['playbook']}" if call.get("playbook") else None]
    meta = " · ".join(escape(str(f)) for f in facts if f)
    return f'<header><h1>Call {int(call["id"])} — coaching report</h1><p class="meta">{meta}</p></header>'


def render_report(doc: CallDocument, limits: Optional[Limits] = None) -> str:
    """The report of one call (`companion.store.calls.load_call`'s document); the pace target and
    the volume line come from the coaching configuration unless `limits` says otherwise."""
    limits = limits or default_limits()
    playbook = call_playbook(doc)
    timeline = _section("timeline", "Timeline", legend_html(doc, limits) + timeline_svg(doc, limits))
    body = "".join([_header(doc), _cards(doc, limits, playbook), timeline, _transcript(doc), _checklist(doc, playbook),
                    _notes(doc), _comments(doc)])
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Call {int(doc["call"]["id"])} — coaching report</title><style>{STYLE}{SPEAKERS}</style></head>'
            f'<body>{body}</body></html>\n')


STYLE = """
:root { color-scheme: light; --text: #202124; --muted: #5f6368; --line: #dadce0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: var(--text); margin: 24px auto; max-width: 1120px;
       padding: 0 20px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
.meta, .caption, .empty { color: var(--muted); margin: 0 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-top: 16px; }
@media (min-width: 1000px) {  /* the seven cards in one row; the prompts card, listing each kind, the widest */
  .cards { grid-template-columns: 1fr 1fr 1fr 1.15fr 1.1fr 1fr 1.5fr; gap: 10px; }
}
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: var(--soft); }
.card-title { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.value { font-size: 24px; font-weight: 600; margin: 2px 0 4px; }
.unit { font-size: 14px; font-weight: 400; color: var(--muted); }
.detail { font-size: 13px; color: #3c4043; margin-top: 2px; }
.prompts .detail { white-space: nowrap; }
p.adherence { margin: 0 0 6px; }
.chip { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 0 0 8px; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 6px; }
svg.timeline { display: block; width: 100%; height: auto; font-family: inherit; }
svg.timeline .lane-name, svg.timeline .panel-title { font-weight: 600; font-size: 13px; }
svg.timeline .band-name { font-weight: 600; font-size: 12px; }
svg.timeline .mood-label { font-size: 11px; font-weight: 600; }
svg.timeline .tick-time, svg.timeline .tick-value, svg.timeline .scale, svg.timeline .empty { fill: #5f6368; }
svg.timeline .chip-label { font-weight: 600; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 4px 8px; }
td { padding: 5px 8px; border-bottom: 1px solid #eef0f2; vertical-align: top; }
td.t { width: 4.5em; font-variant-numeric: tabular-nums; color: var(--muted); white-space: nowrap; }
td.who { width: 7em; font-weight: 600; white-space: nowrap; }
tr.no-text td.text { color: var(--muted); font-style: italic; }
tr.prompt td { background: #fffbea; border-bottom-color: #f3e3a0; }
tr.prompt td.who { color: var(--muted); font-weight: 400; font-style: italic; }
tr.supervisor-message td { background: #ecebf7; border-bottom-color: #c9c6ea; }
.chip.message { background: #2d2a6e; color: #ffffff; }
tr.undone td.step { text-decoration: line-through; color: var(--muted); }
tr.undone td.state { color: #b3261e; font-weight: 600; }
tr.done td.state { color: #1d7a46; }
td.written { color: var(--muted); font-size: 12px; white-space: nowrap; }
.notes { white-space: pre-wrap; border-left: 4px solid var(--line); padding: 6px 12px; background: var(--soft); }
td.text { white-space: pre-wrap; overflow-wrap: anywhere; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 17pt; }
  h2 { font-size: 13pt; margin-top: 16pt; break-after: avoid; page-break-after: avoid; }
  .cards { grid-template-columns: 1fr 1fr 1fr 1.1fr 1.2fr 1fr 1.5fr; gap: 6pt; }  /* mood's summary; the prompts card lists each kind */
  .chip { font-size: 7.5pt; }
  .card { padding: 6pt 8pt; }
  .value { font-size: 15pt; }
  .unit, .detail { font-size: 8.5pt; }
  td { padding: 3pt 6pt; }
  .card, tr, .legend li, svg.timeline, .notes { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
"""
SPEAKERS = "".join(f"tr.{party} td.who {{ color: {colour}; }}\n" for party, colour in PARTY_COLOURS.items())  # as in the lanes
