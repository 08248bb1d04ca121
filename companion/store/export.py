"""Exports of a saved call: json, txt, srt, vtt, csv, html (a coaching report with an SVG timeline)."""

from __future__ import annotations

import csv
import html
import io
import json

from companion.errors import CompanionError
from companion.prompt_kinds import PROMPT_KINDS
from companion.textsafe import spreadsheet_cell

FORMATS = ("json", "txt", "srt", "vtt", "csv", "html")
NAMES = {"agent": "Agent", "customer": "Customer"}
MARKERS = {k.kind: (k.label, k.colour) for k in PROMPT_KINDS.values()}  # timeline markers and their legend


def _stamp(t: float, sep: str) -> str:
    ms = int(round(t * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _lines(doc: dict) -> list[dict]:
    """Transcript lines: recognised segments, or the turns when nothing was transcribed."""
    segments = doc["call"]["segments"]
    if segments:
        return segments
    return [{"party": t["party"], "start": t["start"], "end": t["end"], "text": "(speech)"} for t in doc["turns"]]


def export(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=1)
    if fmt == "txt":
        out = [f"Call {doc['call']['id']} — {doc['call']['started_at']} — {doc['duration_s']:.0f} s — {doc['call']['status']}", ""]
        out += [f"[{_stamp(l['start'], '.')[:-4]}] {NAMES[l['party']]}: {l['text']}" for l in _lines(doc)]
        return "\n".join(out) + "\n"
    if fmt in ("srt", "vtt"):
        sep = "," if fmt == "srt" else "."
        out = ["WEBVTT", ""] if fmt == "vtt" else []
        for n, l in enumerate(_lines(doc), 1):
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
        for row in sorted(rows, key=lambda r: r[0]):
            w.writerow([spreadsheet_cell(cell) for cell in row])
        return buf.getvalue()
    if fmt == "html":
        return _html(doc)
    raise CompanionError(f"Unknown export format {fmt}; use one of {', '.join(FORMATS)}.")


def _html(doc: dict) -> str:
    e = html.escape
    d = max(doc["duration_s"], 1.0)
    width, x = 900, (lambda t: 20 + (width - 40) * t / d)
    svg = [f'<svg width="{width}" height="170" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">']
    for party, y, colour in (("agent", 30, "#1f5fa8"), ("customer", 60, "#1d7a46")):
        svg.append(f'<text x="2" y="{y - 4}">{NAMES[party]}</text>')
        for t in doc["turns"]:
            if t["party"] == party:
                svg.append(f'<rect x="{x(t["start"]):.1f}" y="{y}" width="{max(1.0, x(t["end"]) - x(t["start"])):.1f}" height="16" fill="{colour}"/>')
    for i in doc["interruptions"]:
        svg.append(f'<rect x="{x(i["t"]):.1f}" y="26" width="{max(2.0, x(i["t"] + i["overlap_s"]) - x(i["t"])):.1f}" height="54" fill="#e4683f" opacity="0.35"/>')
    for p in doc["prompts"]:
        colour = MARKERS.get(p["kind"], ("", "#b3261e"))[1]
        svg.append(f'<line x1="{x(p["t"]):.1f}" x2="{x(p["t"]):.1f}" y1="86" y2="104" stroke="{colour}" stroke-width="2"><title>{e(p["kind"])}: {e(p["reason"])}</title></line>')
    pace = doc["pace"]
    if pace:
        pts = " ".join(f'{x(p["t"]):.1f},{160 - min(p["wpm"], 260) / 260 * 50:.1f}' for p in pace)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="#e0a020" stroke-width="1.5"/><text x="2" y="150">pace</text>')
    svg.append("</svg>")
    prompts = "".join(f"<tr><td>{p['t']:.0f} s</td><td>{e(p['kind'])}</td><td>{e(p['reason'])}</td></tr>" for p in doc["prompts"])
    shown = dict.fromkeys(p["kind"] for p in doc["prompts"])
    legend = " ".join(f'<span style="color:{MARKERS[k][1]}">&#9646;</span> {e(MARKERS[k][0])}' for k in shown if k in MARKERS)
    ticks = "".join(f"<li>{t['t']:.0f} s — {e(t['title'])} ({e(t['source'])}{'' if t['done'] else ', undone'})</li>" for t in doc["call"]["checklist"])
    notes = e(doc["call"]["notes"] or "—")
    wpm = "—" if doc["agent_wpm"] is None else f"{doc['agent_wpm']:.0f} words/min"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Call {doc['call']['id']} coaching report</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}} td{{padding:2px 10px}} h2{{margin-top:1.5em}}</style></head><body>
<h1>Call {doc['call']['id']} — coaching report</h1>
<p>{e(doc['call']['started_at'])} · {doc['duration_s']:.0f} s · {e(doc['call']['status'])} · pace {wpm} ({e(doc['pace_source'])})
· agent talk {doc['agent_talk_ratio']:.0%} · longest monologue {doc['longest_agent_monologue_s']:.0f} s</p>
<h2>Timeline</h2>{''.join(svg)}<p>{legend}</p>
<h2>Prompts</h2><table>{prompts or '<tr><td>none</td></tr>'}</table>
<h2>Checklist</h2><ul>{ticks or '<li>no steps ticked</li>'}</ul>
<h2>Notes</h2><p>{notes}</p></body></html>
"""
