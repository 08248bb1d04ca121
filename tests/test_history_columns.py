"""History (offscreen) on a real saved call: each call's start in this machine's local time, and its
adherence to its playbook (companion.checklist) in a Steps column that follows the root-cause note."""

from __future__ import annotations

import time
from datetime import datetime

from companion.checklist import adherence
from companion.config import load_config
from companion.demo import demo_recording, demo_script
from companion.playbooks import all_playbooks
from companion.session import CallSession
from companion.store.calls import load_call, save_root_cause
from companion.store.db import open_store

WAIT_MS = 20_000


def demo_call_kept() -> int:
    """The demo call played through the live pipeline (its script as the transcript), kept with its playbook."""
    playbook = all_playbooks()[0][0]
    session = CallSession(load_config(), playbook)
    recorder = session.keep("demo", playbook=playbook.id)
    session.start_demo(demo_recording(), speed=30.0, script=demo_script())
    assert session.ended.wait(60)
    return recorder.call_id


def test_history_shows_each_calls_start_in_local_time_and_its_adherence(qtbot, monkeypatch):
    from ui.review.history_window import COLUMNS, HistoryWindow

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30: a UTC time shown as it is would be caught
    time.tzset()
    try:
        call_id = demo_call_kept()
        doc = load_call(open_store(), call_id)
        history = HistoryWindow()
        qtbot.addWidget(history)
        qtbot.waitUntil(lambda: not history.searching and call_id in history.shown_ids, timeout=WAIT_MS)
        row = history.shown_ids.index(call_id)
        started = datetime.fromisoformat(doc["call"]["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
        assert history.table.item(row, COLUMNS.index("Started")).text() == started  # tests run in the C locale: ISO
        assert history.since.displayFormat() == "yyyy-MM-dd"
        assert not history.table.verticalHeader().isVisible()  # the id column only: no row numbers beside it

        playbook = {p.id: p for p in all_playbooks()[0]}[doc["call"]["playbook"]]
        ticks = [(t["step_id"], t["t"], bool(t["done"])) for t in doc["call"]["checklist"]]
        before = adherence(playbook.steps, ticks, False)
        assert before.done >= 2  # the demo's words ticked steps
        steps = history.table.item(row, COLUMNS.index("Steps"))
        assert steps.text() == f"{before.score:.0%} ({before.in_order}/{before.total})"
        save_root_cause(call_id, "The courier lost the parcel; follow up on Friday")  # the after-call step
        after = adherence(playbook.steps, ticks, True)
        assert after.in_order == before.in_order + 1
        with qtbot.waitSignal(history.searched, timeout=WAIT_MS):
            history.refresh()
        row = history.shown_ids.index(call_id)
        assert history.table.item(row, COLUMNS.index("Steps")).text() == f"{after.score:.0%} ({after.in_order}/{after.total})"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
