"""Names and text a user or another machine chose reach the terminal, the window and the history only
as text: escape sequences in a file's name are written out, never sent to the terminal; a pipe is
named as a pipe; a playbook's description is never read as HTML; a bundle's playbook field is
redacted like the rest of its text."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

from companion.playbooks import all_playbooks, find_playbook, load_playbook
from companion.resources import resource_path
from companion.store.bundle import import_bundle
from companion.store.calls import list_calls
from companion.store.db import open_store
from companion.store.rows import insert_call
from tests.test_bundles import bundle, changed, companion, good_doc  # noqa: F401 - the fixture: a real call's call.json

EVIL = "call\x1b]0;pwned\x07\x1b[2J\x9b31m"  # sets the terminal's title, clears the screen, turns it red (C1 CSI)
SHOWN = "call\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m"


def _clean(text: str) -> bool:
    return not any(ch in text for ch in "\x1b\x07\x9b")


def test_a_missing_file_with_escapes_in_its_name_is_named_with_them_written_out(tmp_path):
    for command in (("import", tmp_path / f"{EVIL}.wav"), ("analyze", tmp_path / f"{EVIL}.wav", "--model", "none"),
                    ("replay", tmp_path / f"{EVIL}.ccall")):
        run = companion(*command)
        assert run.returncode == 2 and _clean(run.stderr) and run.stderr.count("\n") == 1, run.stderr
        assert f"{SHOWN}." in run.stderr


def test_import_names_a_bad_bundle_and_a_folders_files_with_their_escapes_written_out(good_doc, tmp_path):
    bad = tmp_path / f"{EVIL}.ccall"
    bad.write_bytes(b"not a zip at all" * 100)
    run = companion("import", bad)
    assert run.returncode == 2 and run.stderr == f"companion: {SHOWN}.ccall is not a Call Companion call bundle.\n"
    folder = tmp_path / "shared"
    folder.mkdir()
    bad.rename(folder / bad.name)
    bundle(folder / f"{EVIL}-good.ccall", good_doc)
    run = companion("import", folder)
    assert run.returncode == 1 and _clean(run.stderr), run.stderr
    assert f"{SHOWN}-good.ccall: opened as call" in run.stderr and f"{SHOWN}.ccall: {SHOWN}.ccall is not" in run.stderr


def test_the_analyze_header_writes_the_files_escapes_out(tmp_path):
    call = tmp_path / f"{EVIL}.flac"
    shutil.copy(resource_path("demo/demo_call.flac"), call)
    run = companion("analyze", call, "--model", "none")
    assert run.returncode == 0, run.stderr
    assert _clean(run.stdout) and run.stdout.startswith(f"{tmp_path}/{SHOWN}.flac — ")
    as_json = companion("analyze", call, "--model", "none", "--json")
    assert json.loads(as_json.stdout)["file"] == str(call)  # JSON keeps the name exactly, escaped by JSON itself


def test_a_pipe_given_to_import_or_analyze_is_named_as_a_pipe(tmp_path):
    pipe = tmp_path / "call.ccall"
    os.mkfifo(pipe)
    run = companion("import", pipe)  # nothing writes to it: opening it would wait for ever
    assert run.returncode == 2 and run.stderr == (f"companion: {pipe} is not a regular file (a pipe or a device); "
                                                  "save the recording or bundle to a file first.\n")
    run = companion("analyze", pipe, "--model", "none")
    assert run.returncode == 2 and "is not a regular file (a pipe or a device)" in run.stderr


def test_a_playbooks_description_shows_as_written_in_the_offers_tooltip(qtbot, tmp_path):
    from PySide6.QtGui import QTextDocument

    from ui.call.playbook_offer import PlaybookOffer

    description = 'Calm <b>first</b> & the issue after: <img src="http://tracker.example/x.png">\n  <a href="x">two</a>'
    path = tmp_path / "angry.toml"
    path.write_text(Path(find_playbook("angry-customer").source).read_text().replace(
        'description = "Calm first; the issue after."', f"description = {json.dumps(description)}"))
    angry, current = load_playbook(path), all_playbooks()[0][0]
    offer = PlaybookOffer()
    qtbot.addWidget(offer)
    assert offer.offer(angry, current)
    shown = QTextDocument()
    shown.setHtml(offer.switch.toolTip())  # as Qt shows a tooltip it takes for rich text
    assert shown.toPlainText() == description and "<img" not in shown.toHtml()


def test_a_bundles_playbook_field_is_redacted_on_import_and_on_export(good_doc, tmp_path):
    planted = changed(good_doc, lambda d: d["call"].update(playbook="callback 0207 946 0958 first"))
    db = open_store()
    cid = import_bundle(db, bundle(tmp_path / "playbook.ccall", planted))
    assert db.execute("SELECT playbook FROM calls WHERE id = ?", (cid,)).fetchone()[0] == "callback [phone] first"
    with db:  # a call kept by this machine with such a playbook name (a playbook file named so)
        mine = insert_call(db, "2026-01-05T09:00:00+00:00", "live", None, status="complete", duration_s=3.0,
                           playbook="callback 0207 946 0958 first")
    out = tmp_path / "mine.ccall"
    assert companion("calls", "export", mine, "--format", "bundle", "-o", out).returncode == 0
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read("call.json"))["call"]["playbook"] == "callback [phone] first"
    assert len(list_calls(db)) == 2
