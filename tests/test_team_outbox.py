"""The agent's outbox against what the world does to it (issue 20): a call the server refuses by
row-level security waits alone while the others go; waits that a clock jumping either way cannot
stretch; supervisors' feedback from a server that lies; three `companion team sync` at once.

A real PostgreSQL server (tests/pg_server.py), real stores, the installed `companion` command in
processes of its own where the promise is about processes."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import time
from dataclasses import replace

import psycopg
import pytest

from companion.store import outbox
from companion.store.calls import load_call
from companion.team import server_queries as queries
from companion.team.settings import SyncTuning
from tests.installed import OUTSIDE
from tests.pg_server import free_port, pg_server  # noqa: F401  (the session's PostgreSQL server)
from tests.team_calls import Agent, TeamDb
from tests.test_team_sync import FAST, _no_keyring_here, _wait, agents, one_line  # noqa: F401

T = 1_900_000_000.0  # a wall-clock time (2030)
DAY = 86400.0
TUNING = SyncTuning(backoff_first_s=5.0, backoff_factor=2.0, backoff_max_s=600.0, backoff_jitter=0.0)


@pytest.fixture
def team(pg_server):  # noqa: F811
    t = TeamDb(pg_server, share_text=True, share_audio=False)
    yield t
    t.close()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A store of this machine's with one finished call in it: (connection, call id)."""
    from companion.store.db import open_store
    from companion.store.rows import insert_call

    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path / "config"))
    db = open_store()
    with db:
        cid = insert_call(db, "2026-11-30T10:00:00+00:00", "live", None)
    yield db, cid
    db.close()


def write(db, work):
    from companion.store.db import write as store_write

    return store_write(db, work)


def due_ids(db, now, max_wait_s=TUNING.backoff_max_s):
    return [r["call_id"] for r in outbox.due(db, now, None, max_wait_s)]


# --- a call the server refuses waits alone (item 5) -----------------------------------------------
def test_a_call_whose_uuid_another_agent_holds_waits_alone_with_the_reason_and_the_others_go(team, tmp_path):
    from companion.team.connection import connect
    from companion.team.server_calls import upsert_call
    from tests.team_server_fixtures import call_doc

    ann, bob = agents(team, tmp_path, "ann", "bob")
    bob.quick_calls(3)
    uuids = bob.local_uuids()
    squatted = uuids[1]
    conn = connect(team.dsn("ann"), password=team.passwords[ann.role])  # ann plants a row under bob's call's UUID
    try:
        upsert_call(conn, call_doc(uuid=squatted))
    finally:
        conn.close()

    run = bob.sync()
    assert run.returncode == 1, run.stderr  # some wait; bob is not refused
    line = one_line(run)
    assert line.startswith("companion: 2 calls sent, 1 waiting (1 call the team server would not take, tried again "
                           "later: "), line
    assert "row-level security" in line
    owners = dict((str(u), r) for u, r in team.su.execute("SELECT uuid, agent_role FROM cc.calls"))
    assert owners == {uuids[0]: bob.role, uuids[2]: bob.role, squatted: ann.role}  # ann's row untouched
    assert bob.pending() == 1
    db = bob.store()
    [(attempts, error)] = db.execute("SELECT attempts, last_error FROM outbox").fetchall()
    db.close()
    assert attempts == 1 and "row-level security" in error  # marked, with its reason, on its own backoff
    status = bob.companion("team", "status", "--json")
    report = json.loads(status.stdout)
    assert report["pending"] == 1 and "row-level security" in report["last_error"], status.stdout
    seen = []
    with bob.here():  # the app's worker: the call waits on its own backoff, bob is never "refused"
        from companion.team.sync_worker import SyncWorker

        worker = SyncWorker(publish=seen.append, store=bob.store_path)
        worker.start()
        try:
            _wait(lambda: worker.passes >= 2 and worker.status.state == "waiting")
        finally:
            worker.stop()
    assert seen and {s.state for s in seen} == {"waiting"} and all(s.pending == 1 for s in seen), seen
    assert "row-level security" in seen[-1].message

    team.su.execute("DELETE FROM cc.calls WHERE uuid = %s", (squatted,))  # the admin clears ann's row
    again = bob.sync()
    assert again.returncode == 0, again.stderr
    assert one_line(again) == "companion: 1 call sent; every call is on the team server."
    assert team.uuids() == uuids and bob.pending() == 0


# --- waits no clock can stretch (item 10) ----------------------------------------------------------
def test_a_call_queued_while_the_clock_ran_30_days_ahead_is_due_once_the_clock_is_right(store):
    db, cid = store
    write(db, lambda db: outbox.enqueue(db, cid, now=T + 30 * DAY))  # the clock was a month fast
    assert due_ids(db, T) == [cid]  # the clock put right: due now, not in a month
    assert outbox.next_due(db, T, TUNING.backoff_max_s) == T


def test_a_wait_survives_a_restart_and_never_outlasts_the_longest_backoff_whichever_way_the_clock_jumps(store):
    from companion.store.db import open_store

    db, cid = store
    write(db, lambda db: outbox.enqueue(db, cid, now=T))
    assert write(db, lambda db: outbox.mark_failed(db, cid, "refused", TUNING.backoff, now=T)) == T + 5.0
    db.close()
    db = open_store()  # the app restarted: the wait is kept
    try:
        assert due_ids(db, T + 4.0) == [] and due_ids(db, T + 5.0) == [cid]
        assert due_ids(db, T - 100.0) == []  # the clock went back a little: a little longer, within the longest wait
        assert due_ids(db, T - 3600.0) == [cid]  # an hour back: the wait would outlast any backoff, so it is over
        assert due_ids(db, T + 30 * DAY) == [cid]  # forward: due (early at worst, never late)
        for _ in range(12):  # many failures: the wait stops growing at backoff_max_s
            nxt = write(db, lambda db: outbox.mark_failed(db, cid, "refused", TUNING.backoff, now=T))
        assert nxt == T + TUNING.backoff_max_s
        assert due_ids(db, T + 599.0) == [] and due_ids(db, T + 600.0) == [cid]
    finally:
        db.close()


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_a_claim_lapses_when_its_process_is_gone_its_pass_ended_or_its_lease_ran_out(store):
    db, cid = store
    write(db, lambda db: outbox.enqueue(db, cid, now=T))
    mine = outbox.new_claimant()
    assert [r["call_id"] for r in write(db, lambda db: outbox.claim(db, mine, 10, False, now=T))] == [cid]
    other = outbox.new_claimant()
    assert write(db, lambda db: outbox.claim(db, other, 10, False, now=T + 1)) == []  # held: not sent twice
    assert outbox.due(db, T + 1) == [] and outbox.held_elsewhere(db, other, now=T + 1) == 1
    assert outbox.held_elsewhere(db, mine, now=T + 1) == 0  # one's own claims are not someone else's work
    outbox.end_claimant(mine)  # the pass ended (its release not written): free
    assert due_ids(db, T + 1) == [cid]
    outbox.end_claimant(other)

    for by, at, now in ((f"{_dead_pid()}:gone", T, T + 1),  # killed mid-upload
                        (f"{sys.maxsize}:nonsense", T, T + 1),  # no such process
                        ("1:init", T, T + outbox.LEASE_S + 1),  # alive, but not renewed for a whole lease
                        ("1:init", T + 30 * DAY, T)):  # stamped by a clock a month fast
        write(db, lambda db: db.execute("UPDATE outbox SET claimed_by = ?, claimed_at = ?", (by, at)))  # noqa: B023
        assert due_ids(db, now) == [cid], by
    write(db, lambda db: db.execute("UPDATE outbox SET claimed_by = '1:init', claimed_at = ?", (T,)))
    assert due_ids(db, T + 1) == []  # a live process's fresh claim holds


def test_the_agents_app_sends_a_call_queued_under_a_clock_30_days_fast_at_once(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    ann.quick_calls(1)
    ahead = time.time() + 30 * DAY
    db = ann.store()
    write(db, lambda db: db.execute("UPDATE outbox SET queued_at = ?, next_try = ?", (ahead, ahead)))
    db.close()
    script = ("from companion.team.sync_worker import start_sync\n"  # what `companion live` does around a call
              "w = start_sync()\n"
              "s = w.wait_idle(30)\n"
              "w.stop()\n"
              "print(s.state, s.pending)\n")
    run = subprocess.run([sys.executable, "-c", script], env=ann.env(), cwd=OUTSIDE, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["synced", "0"], run.stdout
    assert team.uuids() == ann.local_uuids() and ann.pending() == 0


def test_the_worker_comes_back_at_its_backoff_when_the_clock_is_set_back_a_month(team, tmp_path, monkeypatch):
    from companion.team.settings import load
    from companion.team.sync_worker import SyncWorker

    [ann] = agents(team, tmp_path, "ann")
    ann.quick_calls(1)
    with ann.here():
        settings = load()
        worker = SyncWorker(store=ann.store_path, settings=replace(settings, dsn=team.dsn("ann", port=free_port())))
        worker.start()
        try:
            _wait(lambda: worker.failures >= 1)  # nothing listens there: unreachable, backing off
            real = time.time
            monkeypatch.setattr(time, "time", lambda: real() - 30 * DAY)  # the clock is set back a month
            worker.settings = settings  # and the server is there again
            _wait(lambda: ann.pending() == 0, timeout=20)
        finally:
            monkeypatch.undo()
            worker.stop()
    assert team.uuids() == ann.local_uuids()


# --- feedback from a server that lies (item 8, the agent's side) -----------------------------------
def _as_an_old_server(team) -> None:
    """The server as an older (or a lying) one: no check on what a comment holds."""
    for (name,) in team.su.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'cc.comments'::regclass "
                                   "AND contype = 'c'").fetchall():
        team.su.execute(f'ALTER TABLE cc.comments DROP CONSTRAINT "{name}"')
    team.su.execute("ALTER TABLE cc.comments DISABLE TRIGGER USER")


def test_a_comment_with_no_time_in_the_call_is_kept_at_its_start_said_once_and_the_sync_goes_on(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    [call_id] = ann.quick_calls(1)  # 9 s long
    assert ann.sync().returncode == 0
    [uuid] = ann.local_uuids()
    _as_an_old_server(team)
    sue = team.name("sue")
    bad = (math.nan, math.inf, -math.inf, -5.0, 1e12)
    for n, t in enumerate(bad):
        team.su.execute("INSERT INTO cc.comments (call_uuid, author_role, t, text) VALUES (%s, %s, %s, %s)",
                        (uuid, sue, t, f"bad time {n}"))
    queries.add_comment(team.as_role("sue"), uuid, "Well handled", t=4.0)

    run = ann.sync()
    assert run.returncode == 0, run.stderr
    assert one_line(run).startswith("companion: Nothing to send; every call is on the team server; 6 new comments "
                                    "from supervisors")
    db = ann.store()
    comments = {c["text"]: c["t"] for c in load_call(db, call_id)["call"]["comments"]}
    db.close()
    assert comments == {**{f"bad time {n}": 0.0 for n in range(len(bad))}, "Well handled": 4.0}  # nothing lost

    again = ann.sync()  # every later sync works, and feedback still arrives
    assert again.returncode == 0 and one_line(again) == "companion: Nothing to send; every call is on the team server."
    queries.add_comment(team.as_role("sue"), uuid, "One more thing", t=2.0)
    ann.quick_calls(1)
    last = ann.sync()
    assert last.returncode == 0, last.stderr
    assert one_line(last) == "companion: 1 call sent; every call is on the team server; 1 new comment from supervisors."
    db = ann.store()
    exported = [c["t"] for c in load_call(db, call_id)["call"]["comments"]]
    db.close()
    assert len(exported) == 7 and all(math.isfinite(t) and 0.0 <= t <= 9.0 for t in exported)


def test_whatever_the_server_answers_the_pull_keeps_what_it_can_and_says_what_it_mended(store, monkeypatch):
    """The same path as above, fed answers no server of ours would give (feedback_since's own checks
    set aside): each item on its own, the pull never fails, the mended and the skipped counted."""
    from companion.store.feedback_rows import review_status
    from companion.team import feedback, server_calls

    db, cid = store
    write(db, lambda db: db.execute("UPDATE calls SET duration_s = 60, uuid = 'u-1' WHERE id = ?", (cid,)))
    at = "2026-12-01T10:00:00+00:00"

    def comment(n, t, **over):
        return {"type": "comment", "call_uuid": "u-1", "id": n, "author": "sue", "t": t, "at": at,
                "text": f"comment {n}", **over}

    answer = [comment(1, math.nan), comment(2, math.inf), comment(3, -0.5), comment(4, 1e308), comment(5, True),
              comment(6, 12.5), comment(7, None), comment(8, 60.4),  # a whole-call one; just past the end
              comment(9, 3.0, id="nine"), comment(10, 3.0, text=None), comment(11, 3.0, call_uuid=None), "junk",
              {"type": "review", "call_uuid": "u-1", "reviewed": True, "by": ["sue"], "at": at},
              {"type": "review", "call_uuid": "u-1", "reviewed": True, "by": "sue", "at": at},
              comment(12, 5.0, call_uuid="a call deleted here")]
    monkeypatch.setattr(server_calls, "feedback_since", lambda conn, since: answer)
    pulled = feedback.pull_feedback(None, db)
    assert (pulled.comments, pulled.reviews, pulled.mended, pulled.skipped) == (8, 1, 5, 5)
    kept = dict(db.execute("SELECT text, t FROM comments"))
    assert kept == {"comment 1": 0.0, "comment 2": 0.0, "comment 3": 0.0, "comment 4": 0.0, "comment 5": 0.0,
                    "comment 6": 12.5, "comment 7": 0.0, "comment 8": 60.0}
    assert review_status(db, cid)["reviewed_by"] == "sue"
    assert outbox.get_state(db, "feedback_since") == at
    again = feedback.pull_feedback(None, db)  # pulled again (the overlap): nothing doubled, nothing said twice
    assert (again.comments, again.mended) == (0, 0)


# --- three syncs at once (item 17) -----------------------------------------------------------------
def _log_uploads(team) -> None:
    """Every row the agents write into cc.calls, noted by a trigger (a test's look inside the server)."""
    team.su.execute("CREATE TABLE public.uploads (uuid uuid NOT NULL, op text NOT NULL)")
    team.su.execute("CREATE FUNCTION public.note_upload() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                    "SET search_path = pg_catalog, public AS $$ BEGIN "
                    "INSERT INTO public.uploads VALUES (NEW.uuid, TG_OP); RETURN NEW; END $$")
    team.su.execute("CREATE TRIGGER note_upload AFTER INSERT OR UPDATE ON cc.calls FOR EACH ROW "
                    "EXECUTE FUNCTION public.note_upload()")


def test_three_syncs_at_once_send_each_call_once_and_each_says_what_it_sent(team, tmp_path):
    ann = Agent(team, "ann", tmp_path, team_settings=FAST + "\nbatch = 4")
    ann.connect()
    ann.quick_calls(12)
    _log_uploads(team)
    lock = psycopg.connect(team.su_dsn)  # not autocommit: the lock holds until rollback
    lock.execute("LOCK TABLE cc.calls IN EXCLUSIVE MODE")  # every sync's first upload waits …
    procs = [ann.popen("team", "sync") for _ in range(3)]
    try:
        # … until each of the three is either held there or done
        _wait(lambda: sum(w == "Lock" for _, w in team.backends("ann")) + sum(p.poll() is not None for p in procs) == 3,
              timeout=90)
    finally:
        lock.rollback()
        lock.close()
    runs = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    lines = []
    for _out, err, code in runs:
        assert code == 0, err
        [line] = [l for l in err.splitlines() if l.strip()]
        lines.append(line)
    said = [int(m.group(1)) if (m := re.match(r"companion: (\d+) calls? sent", line)) else 0 for line in lines]
    assert sorted(said) == [4, 4, 4], lines  # each sent its own claim, and says so
    uploads = team.su.execute("SELECT uuid::text, op FROM public.uploads").fetchall()
    assert sorted(u for u, _ in uploads) == ann.local_uuids() and {op for _, op in uploads} == {"INSERT"}  # once each
    assert ann.pending() == 0
    db = ann.store()
    assert db.execute("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL").fetchone()[0] == 0
    db.close()


def test_a_sync_that_finds_the_server_away_says_one_call_waits(team, tmp_path):
    [ann] = agents(team, tmp_path, "ann")
    ann.quick_calls(1)
    path = ann.config / "team.toml"
    path.write_text(path.read_text().replace(f"port={team.server.port}", f"port={free_port()}"))
    run = ann.sync()
    assert run.returncode == 1
    assert one_line(run).endswith(" 1 call waits on this machine and goes when it answers."), run.stderr
    ann.quick_calls(1)
    assert one_line(ann.sync()).endswith(" 2 calls wait on this machine and go when it answers.")


@pytest.mark.parametrize("line", ["backoff_max_s = inf", "backoff_max_s = nan", "batch = inf",
                                  "backoff_max_s = 100000000"])
def test_a_longest_wait_that_is_not_a_bounded_number_is_refused_in_one_line(tmp_path, line):
    from companion.team.errors import TeamError
    from companion.team.settings import load

    path = tmp_path / "team.toml"
    path.write_text(f"[team]\n{line}\n")
    with pytest.raises(TeamError) as caught:
        load(path)
    assert "\n" not in caught.value.message and ("must be a number" in caught.value.message
                                                 or "at most 86400 (a day)" in caught.value.message)
