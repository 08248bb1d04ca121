"""What a supervisor reads and writes on the team server: the team's call list (filters and
full-text search), one call for the replay window, comments, "reviewed", and the weekly figures of
the dashboard (with their CSV). Row-level security decides what each role sees; nothing here
filters by role itself, so an agent calling these sees their own calls only."""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Optional, Union

from psycopg import errors

from companion.team import doc_rules as rules
from companion.team.errors import TeamError
from companion.team.server_errors import team_errors
from companion.team.server_rows import one

if TYPE_CHECKING:
    from psycopg import Connection

When = Union[str, date, datetime, None]
_LIST_COLUMNS = ("uuid", "agent_role", "team", "started_at", "duration_s", "status", "source", "playbook",
                 "pace_source", "agent_wpm", "agent_talk_ratio", "prompts", "prompt_counts", "interruptions",
                 "interruptions_by_agent", "customer_mood", "upset_s", "reviewed", "reviewed_by", "reviewed_at",
                 "received_at")
RANKED = 1000  # a search ranks the newest this many matches (and at least a page's worth)


def list_calls(conn: Connection[Any], agent: Optional[str] = None, team: Optional[str] = None, since: When = None, until: When = None,
               prompt_kind: Optional[str] = None, interrupted: Optional[bool] = None, reviewed: Optional[bool] = None,
               text: Optional[str] = None, limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
    """The calls this role may see, newest first; with `text` (read as a web search: words,
    "a phrase", -not, or) the best matches first, ranked among the newest RANKED matches.
    `team` is the team the call was taken in; `since` inclusive, `until` exclusive. Each: {uuid,
    agent, team, started_at, duration_s, status, …, prompt_counts {kind: n}, reviewed, comments (how
    many), has_audio, rank (with `text`)}."""
    limit, offset = max(1, min(int(limit), 5000)), max(0, int(offset))
    args = {"limit": limit, "offset": offset, "window": limit + offset, "agent": agent or None, "team": team or None,
            "since": _iso(since) if since else None, "until": _iso(until) if until else None,
            "kind": prompt_kind or None, "interrupted": interrupted, "reviewed": reviewed}
    where = [sql for key, sql in (("agent", "c.agent_role = %(agent)s"), ("team", "c.team = %(team)s"),
                                  ("since", "c.started_at >= %(since)s::timestamptz"),
                                  ("until", "c.started_at < %(until)s::timestamptz"),
                                  ("kind", "c.prompt_counts ? %(kind)s"))
             if args[key] is not None]
    if interrupted is not None:
        where.append("c.status = 'interrupted'" if interrupted else "c.status = 'complete'")
    if reviewed is not None:
        where.append("c.reviewed" if reviewed else "NOT c.reviewed")
    cols = ", ".join("c." + col for col in _LIST_COLUMNS)
    extra = ("(SELECT count(*) FROM cc.comments m WHERE m.call_uuid = c.uuid) AS comments, "
             "EXISTS (SELECT 1 FROM cc.call_audio a WHERE a.uuid = c.uuid) AS has_audio")
    filters = " AND ".join(where) or "true"
    with team_errors("listing the team's calls"):
        if text and text.strip():
            args["text"], args["ranked"] = text.strip(), max(RANKED, limit + offset)
            sql = (f"SELECT {cols}, t.rank, {extra} FROM cc.text_matches(%(text)s, %(since)s, %(until)s, %(agent)s, "
                   "%(team)s, %(kind)s, %(interrupted)s, %(reviewed)s, %(ranked)s) t "
                   "JOIN cc.calls c ON c.uuid = t.call_uuid "
                   f"WHERE {filters} ORDER BY t.rank DESC, c.started_at DESC, c.uuid LIMIT %(limit)s OFFSET %(offset)s")
        elif agent or not one(conn.execute("SELECT pg_has_role('cc_admin', 'USAGE')"))[0]:
            # one newest-first index scan per visible agent, merged: never a sort of the whole team's calls
            agents = "ARRAY[%(agent)s]::text[]" if agent else "cc.visible_agents()"
            sql = (f"SELECT {cols}, NULL::real AS rank, {extra} FROM unnest({agents}) a(role) "
                   f"CROSS JOIN LATERAL (SELECT {cols} FROM cc.calls c WHERE c.agent_role = a.role AND {filters} "
                   "ORDER BY c.started_at DESC LIMIT %(window)s) c "
                   "ORDER BY c.started_at DESC, c.uuid LIMIT %(limit)s OFFSET %(offset)s")
        else:
            sql = (f"SELECT {cols}, NULL::real AS rank, {extra} FROM cc.calls c WHERE {filters} "
                   "ORDER BY c.started_at DESC, c.uuid LIMIT %(limit)s OFFSET %(offset)s")
        cur = conn.execute(sql, args)
        names = [d.name for d in cur.description or ()]  # a SELECT: always described
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for row in rows:
        row["uuid"] = str(row["uuid"])
        row["agent"] = row.pop("agent_role")
        for key in ("started_at", "reviewed_at", "received_at"):
            row[key] = row[key].isoformat() if row[key] else None
    return rows


def load_call(conn: Connection[Any], uuid: str) -> dict[str, Any]:
    """One call shaped like companion.store.calls.load_call (the replay window shows it), plus
    uuid, agent, team, reviewed/reviewed_by/reviewed_at, "comments" (the server's, with ids) and
    "audio_flac" (bytes when the audio was uploaded, else None)."""
    with team_errors("opening a call from the team server"):
        row = conn.execute("SELECT agent_role, team, started_at, duration_s, status, source, playbook, pace_source, "
                           "agent_wpm, agent_talk_ratio, longest_agent_monologue_s, doc, reviewed, reviewed_by, "
                           "reviewed_at FROM cc.calls WHERE uuid = %s", (_uuid(uuid),)).fetchone()
        if row is None:
            raise TeamError(f"There is no call {uuid} on the team server that you may see.")
        comments = conn.execute("SELECT id, author_role, t, at, text FROM cc.comments WHERE call_uuid = %s "
                                "ORDER BY at, id", (_uuid(uuid),)).fetchall()
        audio = conn.execute("SELECT flac FROM cc.call_audio WHERE uuid = %s", (_uuid(uuid),)).fetchone()
    (agent, team, started, duration, status, source, playbook, pace_source, wpm, ratio, monologue, doc,
     reviewed, reviewed_by, reviewed_at) = row
    if not isinstance(doc, dict):
        raise TeamError(f"The call {uuid} on the team server has no readable document (it was stored before the "
                        "server checked documents, or not by Call Companion) — ask your admin.")
    duration = rules.number(duration) or 0.0
    segments = [s for s in rules.items(doc, "segments", ("party", "start", "end", "text"), "start") if s["text"]]
    turns = rules.items(doc, "turns", ("party", "start", "end"), "start")
    for turn, said in zip(turns, _turn_texts(turns, segments)):
        turn["text"] = " ".join(said) if segments else None
    prompts = [dict(p, reason=p["reason"] or "") for p in rules.items(doc, "prompts", ("t", "kind"), "t")]
    interruptions = [dict(i, overlap_s=i["overlap_s"] or 0.0)
                     for i in rules.items(doc, "interruptions", ("t", "by"), "t")]
    checklist = [dict(c, step_id=c["step_id"] or "", title=c["title"] or "", source=c["source"] or "",
                      done=c["done"] is not False) for c in rules.items(doc, "checklist", ("t",), "t")]
    pauses = [dict(p, end=duration if p["end"] is None else p["end"])
              for p in rules.items(doc, "pauses", ("start",), "start")]
    notes = doc.get("root_cause") if rules.valid(doc.get("root_cause"), rules.TOP["root_cause"]) else None
    server_comments = [{"id": c[0], "author": c[1], "t": rules.number(c[2]), "at": c[3].isoformat(), "text": c[4]}
                       for c in comments]
    return {
        "file": f"{agent}, {started.strftime('%Y-%m-%d %H:%M')} (team server)",
        "duration_s": round(duration, 3),
        "pace_source": pace_source or "acoustic",
        "agent_wpm": rules.number(wpm, rules.TOP["agent_wpm"]),
        "agent_talk_ratio": round(rules.number(ratio, rules.TOP["agent_talk_ratio"]) or 0.0, 4),
        "longest_agent_monologue_s": round(rules.number(monologue) or 0.0, 2),
        "turns": turns,
        "interruptions": interruptions,
        "prompts": prompts,
        "pace": rules.items(doc, "pace", ("t", "wpm"), "t"),
        "customer_states": rules.items(doc, "customer_states", ("t", "state"), "t"),
        "call": {
            "id": str(uuid), "started_at": started.isoformat(), "status": status, "source": source,
            "playbook": playbook, "segments": segments, "checklist": checklist, "volume": [], "pauses": pauses,
            "notes": notes,
            "comments": [{"t": c["t"] or 0.0, "prompt_id": None, "author": c["author"], "text": c["text"],
                          "created_at": c["at"]} for c in server_comments],
        },
        "uuid": str(uuid), "agent": agent, "team": team, "reviewed": reviewed, "reviewed_by": reviewed_by,
        "reviewed_at": reviewed_at.isoformat() if reviewed_at else None,
        "comments": server_comments,
        "audio_flac": bytes(audio[0]) if audio else None,
    }


def _turn_texts(turns: list[dict[str, Any]], segments: list[dict[str, Any]]) -> list[list[str]]:
    """Each turn's share of the transcript: the segments of its party whose middle is within it (half
    a second either side), in `segments`' order (by start). A segment goes to one turn only, so the
    turns together hold each segment's text once, however the turns overlap: the latest turn to
    start at or before its middle that reaches it, else the next one (starting within half a
    second), else the earlier one reaching furthest. O((turns + segments) · log turns)."""
    slack = 0.5
    said: list[list[str]] = [[] for _ in turns]
    for party in rules.PARTIES:
        mine = sorted((i for i, t in enumerate(turns) if t["party"] == party), key=lambda i: turns[i]["start"])
        if not mine:
            continue
        starts = [turns[i]["start"] for i in mine]
        ends = [turns[i]["end"] for i in mine]
        furthest, best = [], 0  # furthest[k]: which of mine[:k + 1] ends last
        for k, end in enumerate(ends):
            best = k if end > ends[best] else best
            furthest.append(best)
        for seg in segments:
            if seg["party"] != party:
                continue
            middle = (seg["start"] + seg["end"]) / 2
            k = bisect_right(starts, middle) - 1
            if k >= 0 and ends[k] + slack >= middle:
                pick = k
            elif k + 1 < len(mine) and starts[k + 1] - slack <= middle <= ends[k + 1] + slack:
                pick = k + 1
            elif k >= 0 and ends[furthest[k]] + slack >= middle:
                pick = furthest[k]
            else:
                continue
            said[mine[pick]].append(seg["text"])
    return said


def add_comment(conn: Connection[Any], uuid: str, text: str, t: Optional[float] = None) -> dict[str, Any]:
    """A supervisor's comment on a call they can see (at `t` seconds into it, or on the whole call);
    redacted like every stored text. Returns {id, author, t, at, text}."""
    from companion.store.redaction import redact

    if not isinstance(text, str) or not text.strip():
        raise TeamError("A comment needs some text.")
    if t is not None and rules.number(t) is None:
        raise TeamError(f"A comment's time must be a number of seconds within the call, from 0; {str(t)[:40]!r} is not "
                        "(leave it out for a comment on the whole call).")
    try:
        with team_errors("saving a comment"), conn.transaction():
            row = one(conn.execute("INSERT INTO cc.comments (call_uuid, t, text) VALUES (%s, %s, %s) "
                                   "RETURNING id, author_role, t, at, text",
                                   (_uuid(uuid), None if t is None else float(t), redact(text.strip()))))
    except TeamError as exc:
        raise _not_allowed(exc, "Only supervisors can comment, and only on calls of their team's agents.") from None
    return {"id": row[0], "author": row[1], "t": row[2], "at": row[3].isoformat(), "text": row[4]}


def set_reviewed(conn: Connection[Any], uuid: str, reviewed: bool = True) -> None:
    """Mark a call reviewed (or not); the server stamps who and when."""
    try:
        with team_errors("marking a call reviewed"), conn.transaction():
            found = conn.execute("UPDATE cc.calls SET reviewed = %s WHERE uuid = %s RETURNING uuid",
                                 (bool(reviewed), _uuid(uuid))).fetchone()
    except TeamError as exc:
        raise _not_allowed(exc, "Only supervisors can mark calls reviewed, and only their team's.") from None
    if found is None:
        raise TeamError(f"There is no call {uuid} on the team server that you may review.")


def review_of(conn: Connection[Any], uuid: str) -> Optional[tuple[Any, ...]]:
    """(reviewed, reviewed_by, reviewed_at) of a call as the server has it now; None when not visible."""
    with team_errors("reading a call's review"):
        return conn.execute("SELECT reviewed, reviewed_by, reviewed_at FROM cc.calls WHERE uuid = %s",
                            (_uuid(uuid),)).fetchone()


def refresh_rollup(conn: Connection[Any]) -> str:
    """Recompute the weekly figures now (readers are not blocked); returns when, ISO."""
    with team_errors("refreshing the weekly figures"):
        refreshed: datetime = one(conn.execute("SELECT cc.refresh_rollup()"))[0]
    return refreshed.isoformat()


def rollup_refreshed_at(conn: Connection[Any]) -> Optional[str]:
    with team_errors("reading when the weekly figures were made"):
        row = conn.execute("SELECT refreshed_at FROM cc.rollup_state").fetchone()
    return row[0].isoformat() if row and row[0] else None


def weekly(conn: Connection[Any], weeks: int = 12, team: Optional[str] = None) -> list[dict[str, Any]]:
    """Per agent (and team) per ISO week (Monday, UTC), the last `weeks` weeks, from the rollup
    (as fresh as its last refresh_rollup): {week, agent, team, calls, prompts_per_call,
    prompts_per_call_by_kind {kind: x}, interruptions_per_call, avg_wpm, avg_talk_share,
    calls_reviewed, upset_calls, call_minutes}."""
    sql = ("SELECT week, agent_role, team, calls, prompts, prompts_by_kind, interruptions_by_agent, avg_wpm, "
           "avg_talk_ratio, call_s, calls_reviewed, upset_calls FROM cc.weekly "
           "WHERE week >= (date_trunc('week', now() AT TIME ZONE 'UTC') - make_interval(weeks => %(w)s))::date"
           + (" AND team = %(team)s" if team else "") + " ORDER BY week, agent_role, team")
    with team_errors("reading the weekly figures"):
        rows = conn.execute(sql, {"w": max(1, int(weeks)) - 1, "team": team}).fetchall()
    out = []
    for week, agent, team_name, calls, prompts, by_kind, interruptions, wpm, ratio, call_s, reviewed, upset in rows:
        n = max(calls, 1)
        out.append({"week": week.isoformat(), "agent": agent, "team": team_name or None, "calls": calls,
                    "prompts_per_call": round(prompts / n, 3),
                    "prompts_per_call_by_kind": {k: round(v / n, 3) for k, v in sorted(by_kind.items())},
                    "interruptions_per_call": round(interruptions / n, 3),
                    "avg_wpm": round(wpm, 1) if wpm is not None else None,
                    "avg_talk_share": round(ratio, 3) if ratio is not None else None,
                    "calls_reviewed": reviewed, "upset_calls": upset, "call_minutes": round((call_s or 0) / 60, 1)})
    return out


def weekly_csv(rows: list[dict[str, Any]]) -> str:
    """`weekly`'s rows as CSV: one line per agent per week, a column per prompt kind; no cell can
    start a spreadsheet formula."""
    from companion.prompt_kinds import KINDS
    from companion.textsafe import spreadsheet_cell

    seen = {k for r in rows for k in r.get("prompts_per_call_by_kind", {})}
    kinds = [k for k in KINDS if k in seen] + sorted(seen - set(KINDS))
    head = (["week", "agent", "team", "calls", "prompts_per_call"] + [f"{k}_per_call" for k in kinds] +
            ["interruptions_per_call", "avg_wpm", "avg_talk_share", "calls_reviewed", "upset_calls", "call_minutes"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_cell(v) for v in head])  # kinds come from agents' documents: no formula there either
    for r in rows:
        by_kind = r.get("prompts_per_call_by_kind", {})
        line = ([r["week"], r["agent"], r.get("team") or "", r["calls"], r["prompts_per_call"]] +
                [by_kind.get(k, 0) for k in kinds] +
                [r["interruptions_per_call"], _blank(r["avg_wpm"]), _blank(r["avg_talk_share"]), r["calls_reviewed"],
                 r["upset_calls"], r["call_minutes"]])
        writer.writerow([spreadsheet_cell(v) for v in line])
    return out.getvalue()


def _not_allowed(exc: TeamError, message: str) -> TeamError:
    cause = exc.__context__
    return TeamError(message) if isinstance(cause, errors.InsufficientPrivilege) else exc


def _blank(value: object) -> object:
    return "" if value is None else value


def _uuid(value: str) -> str:
    import uuid as uuid_mod

    try:
        return str(uuid_mod.UUID(str(value)))
    except ValueError:
        raise TeamError(f"{str(value)[:40]!r} is not a call's uuid.") from None


def _iso(value: When) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise TeamError(f"{value!r} is not a date (ISO 8601, e.g. 2026-11-30).") from None
    return str(value)
