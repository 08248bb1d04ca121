"""A bundle from elsewhere is hostile until checked: whatever is in the file, opening it either adds the
call or ends with one clear line naming the file, and a refused bundle leaves the store as it was."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.errors import CompanionError
from companion.store.bundle import import_bundle
from companion.store.bundle_check import FORMAT, FORMAT_VERSION
from companion.store.db import open_store
from tests.test_bundles import bundle, companion, good_doc  # noqa: F401 - the fixture: a real call's call.json

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])
TABLES = ("calls", "turns", "segments", "words", "prompts", "interruptions", "metrics", "ticks", "notes", "comments",
          "pauses", "customer_states")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def snapshot(db) -> tuple:
    return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES)


def opens_or_says_why(db, path: Path) -> None:
    before = snapshot(db)
    try:
        import_bundle(db, path)
    except CompanionError as exc:
        assert exc.message.startswith(path.name + " ") and "\n" not in exc.message, exc.message
        assert snapshot(db) == before  # nothing of a refused bundle is stored
        assert not list((path.parent / "data" / "recordings").glob(".incoming-*"))


def paths(doc, prefix=()):
    """Every place in the document a value sits: (keys/indices...)."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:3]):
            yield from paths(value, prefix + (i,))


def replaced(doc, path, value, delete: bool):
    doc = json.loads(json.dumps(doc))
    if not path:
        return value
    holder = doc
    for key in path[:-1]:
        holder = holder[key]
    if delete and isinstance(holder, dict):
        holder.pop(path[-1], None)
    else:
        holder[path[-1]] = value
    return doc


@FUZZ
@given(data=st.data())
def test_any_change_to_a_real_bundles_fields_opens_or_is_refused_in_one_line(good_doc, tmp_path, data):  # noqa: F811
    where = data.draw(st.sampled_from(list(paths(good_doc))))
    doc = replaced(good_doc, where, data.draw(json_values), data.draw(st.booleans()))
    opens_or_says_why(open_store(), bundle(tmp_path / "fuzzed.ccall", doc) if isinstance(doc, (dict, list)) else
                      _raw(tmp_path / "fuzzed.ccall", json.dumps(doc).encode()))


@FUZZ
@given(doc=json_values)
def test_any_json_document_opens_or_is_refused_in_one_line(tmp_path, doc):
    opens_or_says_why(open_store(), _raw(tmp_path / "any.ccall", json.dumps(doc).encode()))


@FUZZ
@given(blob=st.binary(max_size=2000),  # member names zipfile can write: UTF-8 (no lone surrogate), no NUL
       members=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20), max_size=3))
def test_any_bytes_and_any_member_names_are_refused_in_one_line(tmp_path, blob, members):
    raw = tmp_path / "bytes.ccall"
    raw.write_bytes(blob)
    opens_or_says_why(open_store(), raw)
    zipped = tmp_path / "members.ccall"  # (a NUL cuts a member's name short in zipfile itself: not made here)
    with zipfile.ZipFile(zipped, "w") as zf:
        for name in dict.fromkeys(members):
            zf.writestr(name, blob)
    opens_or_says_why(open_store(), zipped)


def _raw(path: Path, call_json: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("call.json", call_json)
    return path


def test_a_bundle_from_a_newer_app_says_to_update_and_an_unnamed_old_one_still_opens(good_doc, tmp_path):  # noqa: F811
    newer = dict(good_doc, format={"name": FORMAT, "version": FORMAT_VERSION + 1})
    run = companion("replay", bundle(tmp_path / "newer.ccall", newer))
    assert run.returncode == 2 and "made by a newer Call Companion" in run.stderr and run.stderr.count("\n") == 1
    old = {k: v for k, v in good_doc.items() if k != "format"}
    import_bundle(open_store(), bundle(tmp_path / "old.ccall", old))


def test_the_exported_bundle_names_its_format_and_keeps_pauses_and_customer_states(good_doc):  # noqa: F811
    assert good_doc["format"] == {"name": FORMAT, "version": FORMAT_VERSION}
    assert "pauses" in good_doc["call"]
    assert isinstance(good_doc["customer_states"], list)  # and the fuzzer changes them like any field
