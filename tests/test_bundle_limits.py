"""What a call bundle may be: anything the app itself writes opens (a 2 MB comment, a long transcript),
anything malformed is one line and exit 2, and a long transcript goes in in one pass: each segment
written once with its final text, the search index never merged for it."""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from pathlib import Path

from companion.events import CallEnded, Turn
from companion.store.bundle import import_bundle
from companion.store.calls import load_call
from companion.store.db import open_store
from companion.store.recorder import CallRecorder
from companion.store.rows import CallRows, insert_call
from tests.test_bundles import bundle, changed, companion, good_doc  # noqa: F401 - the fixture: a real call's call.json


def _in(data_dir: Path) -> None:
    os.environ["COMPANION_DATA_DIR"] = str(data_dir)


def test_a_malformed_bundle_given_to_import_is_one_line_and_exit_2(good_doc, tmp_path):
    bad = bundle(tmp_path / "bad.ccall", changed(good_doc, lambda d: d.update(duration_s="long")))
    run = companion("import", bad)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr == "companion: bad.ccall is not a valid Call Companion call bundle: duration_s must be a number " \
                         "from 0 to 86400.\n"
    garbage = tmp_path / "garbage.ccall"
    garbage.write_bytes(os.urandom(3000))
    run = companion("import", garbage)
    assert run.returncode == 2 and run.stderr == "companion: garbage.ccall is not a Call Companion call bundle.\n"
    assert companion("calls", "list").stdout == "No saved calls yet.\n"  # nothing of either was stored


def test_a_bundle_the_app_exported_with_a_2_mb_comment_opens_on_another_machine(tmp_path):
    _in(tmp_path / "sender")
    recorder = CallRecorder("live")
    for event in (Turn("agent", 0.0, 3.0), Turn("customer", 3.5, 6.0), CallEnded(duration_s=6.5, dropped_blocks=0)):
        recorder(event)
    recorder.close()
    comment = "The customer asked twice about the late parcel; next time offer the refund first. " * 25_000
    assert len(comment) > 2_000_000
    db = open_store()
    with db:  # as the replay window and the team sync keep a supervisor's comment (in a store kept unredacted)
        CallRows(db, recorder.call_id, redaction=False).comment(2.0, "sue", comment, "2026-01-05T09:00:00+00:00")
    shared = tmp_path / "long-comment.ccall"
    export = companion("calls", "export", recorder.call_id, "--format", "bundle", "-o", shared)
    assert export.returncode == 0, export.stderr
    assert shared.stat().st_size < 100_000  # one phrase repeated: it deflates a thousandfold

    _in(tmp_path / "receiver")
    run = companion("import", shared)
    assert run.returncode == 0, run.stderr
    [opened] = load_call(open_store(), json.loads(companion("calls", "list", "--json").stdout)[0]["id"])["call"]["comments"]
    assert opened["text"] == comment and opened["author"] == "sue"


def test_a_zip_bomb_of_call_json_is_still_refused_by_its_size(tmp_path):
    path = tmp_path / "bomb.ccall"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("call.json", "w", force_zip64=True) as fh:
            for _ in range(5):
                fh.write(b" " * (16 * 1024 * 1024))  # 80 MiB of spaces, about 80 kB in the zip
    run = companion("import", path)
    assert run.returncode == 2 and "call.json would unpack to 80 MiB, more than the 64 MiB a call can have" in run.stderr


def _split_numbers(n: int) -> list[tuple[str, float, float, str]]:
    """`n` segments: pairs in which the customer reads a number across a pause ("four one one one one",
    then "one two"), each pair 20 s after the last. Judged one by one, every second segment rewrites
    the one before it."""
    out = []
    for i in range(n // 2):
        t = i * 20.0
        out.append(("customer", t, t + 2.0, f"reference word{i} four one one one one"))
        out.append(("customer", t + 3.0, t + 4.0, f"one two thanks{i}"))
    return out


def _bundle_of(doc: dict, segments, path: Path) -> Path:
    doc = changed(doc, lambda d: d["call"].update(segments=[{"party": p, "start": s, "end": e, "text": t}
                                                            for p, s, e, t in segments]))
    return bundle(path, doc)


def test_a_long_transcript_opens_in_one_pass_each_segment_written_once(good_doc, tmp_path):
    segments = _split_numbers(3000)
    path = _bundle_of(good_doc, segments, tmp_path / "long.ccall")
    db = open_store()
    statements: list[str] = []
    db.set_trace_callback(statements.append)
    cid = import_bundle(db, path)
    db.set_trace_callback(None)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE SEGMENTS")]  # no row written twice
    assert not [s for s in statements if "optimize" in s]  # the index is never merged for a rewrite
    stored = [r[0] for r in db.execute("SELECT text FROM segments WHERE call_id = ? ORDER BY start", (cid,))]
    assert len(stored) == 3000
    assert stored[:2] == ["reference word0 [phone]", "[phone] thanks0"]  # the number read across the pause: out
    assert not any("four" in text or "one two" in text for text in stored)
    db.execute("INSERT INTO segments_fts(segments_fts, rank) VALUES ('integrity-check', 0)")  # the index is sound
    assert db.execute("SELECT COUNT(*) FROM segments_fts WHERE segments_fts MATCH 'thanks1499'").fetchone()[0] == 1


def test_a_transcript_at_once_is_stored_as_segment_by_segment_would_store_it(tmp_path):
    """The one-pass path judges each segment with the ones before it exactly as a live call's are judged."""
    said = [("customer", 0.0, 2.0, "my card is four one one one"), ("customer", 3.0, 4.0, "one one one one"),
            ("customer", 5.0, 6.5, "one one one one one one one one"), ("agent", 7.0, 9.0, "and the security code"),
            ("customer", 9.5, 10.5, "one two three"), ("agent", 30.0, 32.0, "call me on oh two oh seven"),
            ("agent", 33.0, 34.0, "nine four six oh nine five eight"), ("customer", 50.0, 52.0, "order 12345 shipped"),
            ("customer", 53.0, 55.0, "email jane dot doe at example dot com"), ("agent", 70.0, 71.0, "thank you")]
    db = open_store()
    with db:
        one_by_one = insert_call(db, "2026-01-05T09:00:00+00:00", "bundle", None)
        rows = CallRows(db, one_by_one)
        for segment in said:
            rows.segment(*segment)
        at_once = insert_call(db, "2026-01-05T09:00:00+00:00", "bundle", None)
        CallRows(db, at_once).transcript(said)

    def texts(cid):
        return [r[0] for r in db.execute('SELECT text FROM segments WHERE call_id = ? ORDER BY start', (cid,))]

    assert texts(at_once) == texts(one_by_one)
    assert "[card]" in " ".join(texts(at_once)) and "jane" not in " ".join(texts(at_once))


def test_an_export_the_app_would_refuse_is_refused_when_written_in_one_line(tmp_path):
    db = open_store()
    with db:
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete", duration_s=5.0)
        db.execute("INSERT INTO turns(call_id, party, start, \"end\") VALUES (?, 'agent', ?, 1.0)", (cid, -3.0))
    run = companion("calls", "export", cid, "--format", "bundle", "-o", tmp_path / "x.ccall")
    assert run.returncode == 2 and run.stderr == f"companion: Call {cid} cannot be shared as a bundle: turns[].start " \
                                                 "must be a number from 0 to 86400.\n", run.stderr
    assert not (tmp_path / "x.ccall").exists()


def test_sqlite_can_read_what_the_one_pass_wrote(tmp_path):  # the file itself, from another connection
    db = open_store()
    path = Path(db.execute("PRAGMA database_list").fetchone()[2])
    with db:
        cid = insert_call(db, "2026-01-05T09:00:00+00:00", "bundle", None)
        CallRows(db, cid).transcript(_split_numbers(40))
    other = sqlite3.connect(path)
    assert other.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert other.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 40


def test_a_long_comment_full_of_e_mail_addresses_opens_redacted(good_doc, tmp_path):
    """Redaction is one pass over a text: a comment of 30,000 addresses (judged against every earlier
    find, as it once was, that took minutes) opens at once, every address taken out."""
    comment = "a@b.co or " * 30_000
    doc = changed(good_doc, lambda d: d["call"].update(comments=[{"t": 1.0, "author": "sue", "text": comment,
                                                                  "created_at": "2026-01-05T09:00:00+00:00"}]))
    db = open_store()
    cid = import_bundle(db, bundle(tmp_path / "addresses.ccall", doc))
    [stored] = [r[0] for r in db.execute("SELECT text FROM comments WHERE call_id = ?", (cid,))]
    assert "@" not in stored and stored.count("[email]") == 30_000
