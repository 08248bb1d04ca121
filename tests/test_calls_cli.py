"""`companion calls list` and `calls show` as a person reads them: a header, local times, pages newest first,
one clear line for a wrong kind, a call's prompts and transcript; `--json` for programs, as before."""

from __future__ import annotations

import json

from companion.events import CallEnded, FinalSegment, Prompt, Word
from companion.prompt_kinds import KINDS
from companion.store.db import open_store, write
from companion.store.recorder import CallRecorder
from companion.store.rows import insert_call
from tests.commands import companion

KOLKATA = {"TZ": "Asia/Kolkata"}  # UTC+05:30 all year: 08:35 UTC is 14:05 there


def _stored(*calls: tuple[str, str, float]) -> list[int]:
    """Calls written straight into the store: (started_at, source, duration_s) each, complete."""
    db = open_store()
    try:
        return [write(db, lambda db, c=c: insert_call(db, c[0], c[1], None, status="complete", duration_s=c[2]))
                for c in calls]
    finally:
        db.close()


def said(party: str, text: str, t: float) -> FinalSegment:
    words = tuple(Word(w, t + i * 0.3, t + i * 0.3 + 0.25, 1.0) for i, w in enumerate(text.split()))
    return FinalSegment(party, words[0].start, words[-1].end, words)


def test_an_empty_store_says_so():
    run = companion("calls", "list")
    assert run.returncode == 0 and run.stdout == "No saved calls yet.\n" and run.stderr == ""
    assert companion("calls", "list", "--json").stdout == "[]\n"


def test_the_list_has_a_header_and_the_users_local_times():
    _stored(("2026-12-06T08:35:00+00:00", "import", 125.0))
    run = companion("calls", "list", extra_env=KOLKATA)
    assert run.returncode == 0, run.stderr
    header, line = run.stdout.splitlines()
    assert header.split() == ["ID", "Started", "Length", "Source", "Status", "Customer", "Prompts"]
    assert "2026-12-06 14:05" in line and "02:05" in line and "import" in line and "complete" in line, line
    assert "08:35" not in line  # not the stored UTC time


def test_filters_that_exclude_every_call_say_so():
    _stored(("2026-12-06T08:35:00+00:00", "import", 60.0))
    run = companion("calls", "list", "--kind", "slow_down")
    assert run.returncode == 0 and run.stdout == "No calls match.\n"


def test_an_unknown_kind_is_refused_with_the_kinds():
    run = companion("calls", "list", "--kind", "shout")
    assert run.returncode == 2 and run.stdout == ""
    [line] = run.stderr.splitlines()
    assert "shout" in line and all(kind in line for kind in KINDS), line


def test_pages_come_newest_first_without_overlap():
    ids = _stored(*((f"2026-12-{day:02d}T09:00:00+00:00", "live", 30.0) for day in range(1, 8)))
    first = [c["id"] for c in json.loads(companion("calls", "list", "--json", "--limit", 3).stdout)]
    second = [c["id"] for c in json.loads(companion("calls", "list", "--json", "--limit", 3, "--offset", 3).stdout)]
    last = [c["id"] for c in json.loads(companion("calls", "list", "--json", "--limit", 3, "--offset", 6).stdout)]
    assert first + second + last == ids[::-1]
    text = companion("calls", "list", "--limit", 2).stdout.splitlines()
    assert len(text) == 3 and text[1].split()[0] == str(ids[-1])  # the header, then the newest two
    assert companion("calls", "list", "--limit", "-1").returncode == 2


def test_show_reads_as_the_calls_prompts_and_transcript():
    recorder = CallRecorder("live")
    for event in (said("customer", "the parcel never arrived", 2.0), said("agent", "I will send another today", 65.0),
                  Prompt(66.0, "slow_down", "180 words/min"), CallEnded(80.0, 0)):
        recorder(event)
    recorder.close()
    run = companion("calls", "show", recorder.call_id)
    assert run.returncode == 0, run.stderr
    text = run.stdout
    assert text.startswith(f"Call {recorder.call_id} ") and "01:20" in text.splitlines()[0]
    assert "01:06  Slow down — 180 words/min" in text
    assert "00:02  customer  the parcel never arrived" in text and "01:05  agent     I will send another today" in text
    doc = json.loads(companion("calls", "show", recorder.call_id, "--json").stdout)
    assert doc["prompts"] == [{"t": 66.0, "kind": "slow_down", "reason": "180 words/min"}]
    assert doc == json.loads(companion("calls", "export", recorder.call_id).stdout)  # the document, as exported


def test_list_json_keeps_its_fields():
    _stored(("2026-12-06T08:35:00+00:00", "import", 60.0))
    [entry] = json.loads(companion("calls", "list", "--json").stdout)
    assert set(entry) == {"id", "started_at", "duration_s", "status", "prompts", "customer_mood", "upset_s"}
    assert entry["started_at"] == "2026-12-06T08:35:00+00:00" and entry["prompts"] == 0
