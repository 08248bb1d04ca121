"""Exports of a saved call: json, txt, srt, vtt, csv, html (the coaching report, companion.reports.html_report).

The customer's mood goes with the call: `customer_states` in json, a `customer_state` row per change
in csv, a summary line in txt, a band and a card in html. A supervisor's message sent during the call (the team
live) goes with it too: `call.supervisor_messages` in json, a row in csv, a line at its time in txt and html."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from companion.errors import CompanionError
from companion.report import mood_summary
from companion.reports.formats import FORMATS
from companion.reports.html_report import render_report, transcript_lines
from companion.store.calls import CallDocument
from companion.textsafe import spreadsheet_cell
from companion.timeline import PARTY_NAMES as NAMES


def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _messages(doc: CallDocument) -> list[dict[str, Any]]:
    """The supervisors' messages that reached the agent during the call (the team live), with their times."""
    return [m for m in doc["call"].get("supervisor_messages") or [] if isinstance(m.get("t"), (int, float))]


def export(doc: CallDocument, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=1)
    if fmt == "txt":
        out = [f"Call {doc['call']['id']} — {doc['call']['started_at']} — {doc['duration_s']:.0f} s — {doc['call']['status']}"]
        if doc.get("customer_states"):
            out.append(f"Customer mood: {mood_summary(doc['customer_states'], doc['duration_s'])}")
        out.append("")
        said = [(l["start"], f"[{_stamp(l['start'], '.')[:-4]}] {NAMES[l['party']]}: {l['text']}") for l in transcript_lines(doc)]
        said += [(m["t"], f"[{_stamp(m['t'], '.')[:-4]}] (message from supervisor {m['sender']}: {m['text']})")
                 for m in _messages(doc)]
        out += [line for _, line in sorted(said, key=lambda s: s[0])]
        return "\n".join(out) + "\n"
    if fmt in ("srt", "vtt"):
        sep = "," if fmt == "srt" else "."
        out = ["WEBVTT", ""] if fmt == "vtt" else []
        for n, l in enumerate(transcript_lines(doc), 1):
            if fmt == "srt":
                out.append(str(n))
            out.append(f"{_stamp(l['start'], sep)} --> {_stamp(max(l['end'], l['start'] + 0.5), sep)}")
            out.append(f"<v {NAMES[l['party']]}>{l['text']}" if fmt == "vtt" else f"{NAMES[l['party']]}: {l['text']}")
            out.append("")
        return "\n".join(out)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["t", "type", "kind_or_by", "reason_or_overlap_s"])
        rows = [(p["t"], "prompt", p["kind"], p["reason"]) for p in doc["prompts"]]
        rows += [(i["t"], "interruption", i["by"], i["overlap_s"]) for i in doc["interruptions"]]
        rows += [(c["t"], "customer_state", c["state"], "") for c in doc.get("customer_states", [])]
        rows += [(m["t"], "supervisor_message", m["sender"], m["text"]) for m in _messages(doc)]
        for row in sorted(rows, key=lambda r: r[0]):
            w.writerow([spreadsheet_cell(cell) for cell in row])
        return buf.getvalue()
    if fmt == "html":
        return render_report(doc)
    raise CompanionError(f"Unknown export format {fmt}; use one of {', '.join(FORMATS)}.")
