"""The store's schema, versioned: each migration (a script, or a function for one that must look first)
takes the database one version up."""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    source TEXT NOT NULL,              -- 'live', 'demo', 'analyze', 'import'
    file TEXT,
    duration_s REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',  -- 'active', 'complete', 'interrupted'
    playbook TEXT,
    pace_source TEXT,
    agent_wpm REAL,
    agent_talk_ratio REAL,
    longest_agent_monologue_s REAL
);
CREATE TABLE turns (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    party TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL);
CREATE TABLE segments (id INTEGER PRIMARY KEY, call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                       party TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, text TEXT NOT NULL);
CREATE TABLE words (segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
                    word TEXT NOT NULL, start REAL NOT NULL, "end" REAL NOT NULL, conf REAL);
CREATE TABLE prompts (id INTEGER PRIMARY KEY, call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                      t REAL NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE interruptions (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                            t REAL NOT NULL, by TEXT NOT NULL, overlap_s REAL NOT NULL);
CREATE TABLE metrics (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                      t REAL NOT NULL, pace_wpm REAL, loudness_delta_db REAL, talk_share REAL, data TEXT NOT NULL);
CREATE TABLE ticks (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                    t REAL NOT NULL, step_id TEXT NOT NULL, title TEXT NOT NULL, source TEXT NOT NULL, done INTEGER NOT NULL);
CREATE TABLE notes (call_id INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE, root_cause TEXT NOT NULL);
CREATE INDEX turns_call ON turns(call_id);
CREATE INDEX segments_call ON segments(call_id);
CREATE INDEX prompts_call ON prompts(call_id);
CREATE INDEX metrics_call ON metrics(call_id);
"""

V2 = """
ALTER TABLE calls ADD COLUMN content_hash TEXT;
ALTER TABLE calls ADD COLUMN writer_pid INTEGER;
CREATE INDEX calls_hash ON calls(content_hash);
CREATE INDEX calls_started ON calls(started_at);
CREATE TABLE comments (id INTEGER PRIMARY KEY, call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                       t REAL NOT NULL, prompt_id INTEGER REFERENCES prompts(id) ON DELETE SET NULL,
                       author TEXT, text TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', content_rowid='id');
CREATE TRIGGER segments_ai AFTER INSERT ON segments BEGIN
    INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER segments_ad AFTER DELETE ON segments BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
INSERT INTO segments_fts(segments_fts) VALUES ('rebuild');
"""

V3 = """
ALTER TABLE calls ADD COLUMN recording TEXT;
"""

V4 = """
CREATE TABLE pauses (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                     start REAL NOT NULL, "end" REAL);
CREATE INDEX pauses_call ON pauses(call_id);
"""

V5 = """
CREATE TABLE customer_states (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                              t REAL NOT NULL, state TEXT NOT NULL);
CREATE INDEX customer_states_call ON customer_states(call_id, t);
ALTER TABLE calls ADD COLUMN customer_mood TEXT;  -- the worst state the customer reached: 'calm', 'tense', 'upset'
ALTER TABLE calls ADD COLUMN upset_s REAL;         -- how long they were upset (to the call's end once it ended)
CREATE INDEX calls_mood ON calls(customer_mood);
"""

# issue 14, the team server: every call gets a UUID (the server's key: a call sent twice is kept once), a
# finished team call waits in `outbox` until the server has it, and what the supervisors said comes back
_UUID4 = ("lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) "
          "|| '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' "
          "|| lower(hex(randomblob(6)))")
V6 = f"""
ALTER TABLE calls ADD COLUMN uuid TEXT;
UPDATE calls SET uuid = {_UUID4} WHERE uuid IS NULL;
CREATE UNIQUE INDEX calls_uuid ON calls(uuid);
ALTER TABLE calls ADD COLUMN reviewed_by TEXT;   -- the supervisor who marked the call reviewed, on the team server
ALTER TABLE calls ADD COLUMN reviewed_at TEXT;   -- when (ISO, the server's clock); NULL: not reviewed
CREATE TABLE outbox (call_id INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
                     queued_at REAL NOT NULL,          -- time.time() when the call was closed
                     attempts INTEGER NOT NULL DEFAULT 0,
                     next_try REAL NOT NULL,           -- not sent again before this time.time()
                     last_error TEXT);
CREATE INDEX outbox_next ON outbox(next_try);
ALTER TABLE comments ADD COLUMN server_id INTEGER;  -- a comment pulled from the team server: its id there
CREATE UNIQUE INDEX comments_server ON comments(server_id);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT);
"""

# issue 20: a sync pass claims the outbox rows it sends, so several syncs at once (`team sync` run three
# times, the window's worker beside it) send each call once and each says what it sent
V7 = """
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;  -- "pid:token" of the sync pass sending the call now; NULL: free
ALTER TABLE outbox ADD COLUMN claimed_at REAL;  -- time.time() of the claim (renewed as it sends; a lease)
"""

# The search index, rebuilt to be kept by triggers alone. A segment enters it only once no later segment
# can rewrite it (`held` = 0; companion.store.rows): a number read across segments is never indexed in
# clear, so the index is never merged by hand to purge it. Such a merge per rewrite ('optimize') added
# levels to the index on SQLite 3.40 until, after about 1,300 of them, the index could no longer be read
# ("database disk image is malformed" on every segment written, though PRAGMA quick_check said ok).
# The index reads the transcripts through a view of the settled segments, so FTS5's 'rebuild' and
# 'integrity-check' see exactly what the triggers put in. A call that is over holds nothing back.
V8_SQL = """
DROP TRIGGER IF EXISTS segments_ai;
DROP TRIGGER IF EXISTS segments_ad;
DROP TABLE segments_fts;
ALTER TABLE segments ADD COLUMN held INTEGER NOT NULL DEFAULT 0;  -- 1: a later segment may still rewrite it
CREATE INDEX segments_held ON segments(call_id) WHERE held <> 0;
CREATE VIEW segments_settled AS SELECT id, text FROM segments WHERE held = 0;
CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments_settled', content_rowid='id');
CREATE TRIGGER segments_ai AFTER INSERT ON segments WHEN new.held = 0 BEGIN
    INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER segments_ad AFTER DELETE ON segments WHEN old.held = 0 BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER segments_au AFTER UPDATE OF text, held ON segments WHEN old.held = 0 OR new.held = 0 BEGIN
    INSERT INTO segments_fts(segments_fts, rowid, text) SELECT 'delete', old.id, old.text WHERE old.held = 0;
    INSERT INTO segments_fts(rowid, text) SELECT new.id, new.text WHERE new.held = 0;
END;
CREATE TRIGGER calls_closed AFTER UPDATE OF status ON calls WHEN new.status <> 'active' BEGIN
    UPDATE segments SET held = 0 WHERE call_id = new.id AND held <> 0;
END;
CREATE TRIGGER segments_after_close AFTER INSERT ON segments WHEN new.held <> 0
    AND (SELECT status FROM calls WHERE id = new.call_id) IS NOT 'active' BEGIN
    UPDATE segments SET held = 0 WHERE id = new.id;
END;
INSERT INTO segments_fts(segments_fts) VALUES ('rebuild');
"""


def V8(db: sqlite3.Connection) -> None:
    from companion.store.search_index import openable, reset

    if not openable(db):  # an index this bug broke cannot even be dropped: emptied first
        reset(db)
    for statement in _statements(V8_SQL):
        db.execute(statement)


# issue 25, the team live: a supervisor's message that reached the agent during a call is kept with it, at its
# call time (`server_id`: its id on the team server), redacted like every stored text
V9 = """
CREATE TABLE supervisor_messages (call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
                                  t REAL NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL, server_id INTEGER);
CREATE INDEX supervisor_messages_call ON supervisor_messages(call_id, t);
"""

MIGRATIONS = (V1, V2, V3, V4, V5, V6, V7, V8, V9)
VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Bring the database to VERSION; returns the version it started at.

    The version is read and every migration applied inside one exclusive transaction, so several
    processes opening a brand-new store at once migrate it once: the others wait, then find it done."""
    start = int(db.execute("PRAGMA user_version").fetchone()[0])
    if start == VERSION:
        return start
    _newer_check(start)
    db.execute("BEGIN EXCLUSIVE")
    try:
        start = int(db.execute("PRAGMA user_version").fetchone()[0])
        _newer_check(start)
        for version in range(start, VERSION):
            step = MIGRATIONS[version]
            if callable(step):
                step(db)
                continue
            for statement in _statements(step):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite has rolled back itself after a full disk: the disk's error is the one to tell
            db.execute("ROLLBACK")
        raise
    return start


def _newer_check(version: int) -> None:
    if version > VERSION:
        from companion.errors import CompanionError

        raise CompanionError(f"The call store was written by a newer Call Companion (schema {version}); update the app.")


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one (triggers hold semicolons of their own)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s]
