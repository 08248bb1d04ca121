"""The app never writes a bundle it would refuse to open: a call whose call.json would pass the 64 MiB an
import accepts, or whose recording would pass 4 GiB, is refused when exported, in one line, and no file
is left behind."""

from __future__ import annotations

import pytest

from companion.errors import CompanionError
from companion.store.bundle import export_bundle
from companion.store.bundle_check import MAX_JSON_BYTES, MAX_RECORDING_BYTES, MAX_TEXT
from companion.store.db import open_store, write
from companion.store.rows import insert_call


def saved_call(db, recording=None) -> int:
    return write(db, lambda db: insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete",
                                            duration_s=60.0, recording=recording))


def test_a_call_whose_call_json_would_pass_64_mb_is_refused_when_exported(tmp_path):
    db = open_store()
    cid = saved_call(db)
    comments = MAX_JSON_BYTES // MAX_TEXT + 1   # each as long as a text may be: together past the limit
    write(db, lambda db: db.executemany(
        "INSERT INTO comments(call_id, t, author, text, created_at) VALUES (?, ?, 'sup', ?, '2026-01-05T10:00:00+00:00')",
        [(cid, float(n), chr(ord("a") + n) * MAX_TEXT) for n in range(comments)]))
    target = tmp_path / "big.ccall"
    with pytest.raises(CompanionError) as refused:
        export_bundle(db, cid, target)
    assert refused.value.message.startswith(f"Call {cid} cannot be shared as a bundle: its call.json would be 6")
    assert refused.value.message.endswith(" MiB, more than the 64 MiB a call can have.") and "\n" not in refused.value.message
    assert not target.exists()


def test_a_call_whose_recording_would_pass_4_gb_is_refused_when_exported(tmp_path):
    audio = tmp_path / "call.flac"
    with open(audio, "wb") as fh:   # sparse: as large as it says, without the disk space
        fh.truncate(MAX_RECORDING_BYTES + 1)
    db = open_store()
    cid = saved_call(db, recording=str(audio))
    target = tmp_path / "long.ccall"
    with pytest.raises(CompanionError, match=rf"^Call {cid} cannot be shared as a bundle: its recording.flac would be "
                                             r"4\.1 GiB, more than the 4 GiB a call can have\.$"):
        export_bundle(db, cid, target)
    assert not target.exists()
