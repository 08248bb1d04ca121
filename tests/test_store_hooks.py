"""The store stores (issue 22): it closes calls without knowing who else cares — the layers above
subscribe to its call-closed hook — and it imports nothing of the team package, the analysis, the
pipeline, the use-cases or the reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from companion.store.db import close_interrupted, open_store, write
from companion.store.hooks import call_closed, on_call_closed
from companion.store.rows import insert_call
from tests.installed import OUTSIDE

ABOVE_THE_STORE = ("companion.team", "companion.analysis", "companion.pipeline", "companion.session",
                   "companion.live", "companion.app", "companion.reports", "companion.cli", "ui")


def test_the_store_imports_nothing_from_the_layers_above_it():
    script = ("import importlib, pkgutil, sys\n"
              "import companion.store\n"
              "for m in pkgutil.iter_modules(companion.store.__path__):\n"
              "    importlib.import_module('companion.store.' + m.name)\n"
              f"print(sorted(n for n in sys.modules if n.startswith({ABOVE_THE_STORE!r})))\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=OUTSIDE, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def _crashed_call(db) -> int:
    """A live call left 'active' by an app that is gone (no such process)."""
    cid = write(db, lambda db: insert_call(db, "2026-12-06T09:00:00+00:00", "live", None,
                                           writer_pid=2147483646))
    return cid


def test_a_call_closed_after_a_crash_runs_the_hooks_inside_the_closing_transaction():
    db = open_store()
    cid = _crashed_call(db)
    seen = []
    remove = on_call_closed(lambda db, call_id: seen.append(
        (call_id, db.execute("SELECT status FROM calls WHERE id = ?", (call_id,)).fetchone()[0], db.in_transaction))
        or True)
    try:
        assert close_interrupted(db) == 1
    finally:
        remove()
    assert seen == [(cid, "interrupted", True)]  # already closed, and not yet committed


def test_a_hook_that_fails_leaves_the_call_as_it_was():
    db = open_store()
    cid = _crashed_call(db)

    def broken(db, call_id):
        raise RuntimeError("the hook failed")

    remove = on_call_closed(broken)
    try:
        with pytest.raises(RuntimeError):
            close_interrupted(db)
    finally:
        remove()
    assert db.execute("SELECT status FROM calls WHERE id = ?", (cid,)).fetchone()[0] == "active"
    assert close_interrupted(db) == 1  # the next start closes it, with the hooks that work


def test_each_hook_runs_once_however_often_it_is_added_and_not_after_it_is_removed():
    db = open_store()
    cid = write(db, lambda db: insert_call(db, "2026-12-06T09:00:00+00:00", "analyze", None))
    calls = []

    def hook(db, call_id):
        calls.append(call_id)
        return True

    remove = on_call_closed(hook)
    on_call_closed(hook)
    try:
        assert write(db, lambda db: call_closed(db, cid)) is True
    finally:
        remove()
    write(db, lambda db: call_closed(db, cid))
    assert calls == [cid]
