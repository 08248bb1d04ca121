"""Playbooks are read field by field, and the window shows their words (and every other text from
outside: prompt reasons, transcripts, comments) exactly as written, never as markup."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextDocument

from companion.config import load_config
from companion.errors import ConfigError
from companion.events import Prompt
from companion.playbooks import all_playbooks, load_playbook

GOOD = 'id = "billing"\nname = "Billing"\n[[step]]\nid = "facts"\ntitle = "Get the facts"\n'
MARKUP = """id = "refunds"
name = "Refunds <2024> & credits"
description = "Money back"

[[step]]
id = "limit"
title = "Refund <50 & >10"
guidance = "Use <i>care</i> & check the order"
tips = ["<b>x</b>", "Say: \\"less than <50\\""]
cues = ["refund"]

[[step]]
id = "close"
title = "Close <politely>"
"""


def shown(html: str) -> str:
    """What a rich-text widget actually shows for `html`."""
    document = QTextDocument()
    document.setHtml(html)
    return document.toPlainText()


def user_playbook(tmp_path, monkeypatch, name: str, content: bytes | str):
    monkeypatch.setenv("COMPANION_DATA_DIR", str(tmp_path / "data"))
    folder = tmp_path / "data" / "playbooks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_a_playbook_that_is_not_utf8_is_named_and_the_others_still_load(tmp_path, monkeypatch):
    user_playbook(tmp_path, monkeypatch, "good.toml", GOOD)
    bad = user_playbook(tmp_path, monkeypatch, "latin1.toml",
                        '# Procédure\nid = "x"\nname = "X"\n[[step]]\nid = "a"\ntitle = "A"\n'.encode("latin-1"))
    playbooks, problems = all_playbooks()
    assert [p.id for p in playbooks] == ["unhappy-customer", "angry-customer", "negotiation", "billing"]
    assert problems == [f"Playbook {bad} is not UTF-8 text (byte 0xe9 at position 6, line 1); save it as UTF-8."]


@pytest.mark.parametrize(
    "field,message",
    [
        ('tips = "Stay calm"', 'step 1: tips must be a list of text, such as tips = ["Stay calm"], not one text.'),
        ('cues = "sorry"', 'step 1: cues must be a list of text, such as cues = ["sorry"], not one text.'),
        ("tips = [1, 2]", 'step 1: tips must be a list of text, such as tips = ["one", "two"].'),
        ("guidance = 5", "step 1: guidance must be text in quotes (got the number 5)."),
        ('guidance = ["a", "b"]', "step 1: guidance must be text in quotes (got a list)."),
        ('tip = ["Stay calm"]', "step 1 has an unknown key tip (known: id, title, guidance, tips, cues, near_cues, unless, flow)."),
    ],
)
def test_each_step_field_must_have_its_type(tmp_path, field, message):
    path = tmp_path / "p.toml"
    path.write_text(GOOD + field + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_playbook(path)
    assert caught.value.message == f"Playbook {path}, {message}"


@pytest.mark.parametrize(
    "text,message",
    [
        ('id = 7\nname = "X"\n[[step]]\nid = "a"\ntitle = "A"\n', ": id must be text in quotes (got the number 7)."),
        ('id = "x"\nname = true\n[[step]]\nid = "a"\ntitle = "A"\n', ": name must be text in quotes (got true or false)."),
        ('id = "x"\nname = "X"\ndescription = ["a"]\n[[step]]\nid = "a"\ntitle = "A"\n',
         ": description must be text in quotes (got a list)."),
        ('id = "x"\nname = "X"\n[step]\nid = "a"\ntitle = "A"\n', ": step must be a list of tables, each starting with [[step]]."),
        ('id = "x"\nname = "  "\n[[step]]\nid = "a"\ntitle = "A"\n', ": name must not be empty."),
        ('id = "x"\nname = "X"\n[[step]]\nid = "a"\n', ", step 1 is missing title (each needs id, name and steps with id and title)."),
    ],
)
def test_each_playbook_field_must_have_its_type(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_playbook(path)
    assert caught.value.message == f"Playbook {path}{message}"


def test_a_mistyped_user_playbook_is_reported_by_name_and_the_rest_load(tmp_path, monkeypatch):
    user_playbook(tmp_path, monkeypatch, "good.toml", GOOD)
    bad = user_playbook(tmp_path, monkeypatch, "calm.toml", GOOD.replace("billing", "calm") + 'tips = "Stay calm"\n')
    playbooks, problems = all_playbooks()
    assert "billing" in [p.id for p in playbooks] and "calm" not in [p.id for p in playbooks]
    assert len(problems) == 1 and problems[0].startswith(f"Playbook {bad}, step 1: tips must be a list of text")


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    user_playbook(tmp_path, monkeypatch, "refunds.toml", MARKUP)
    from ui.call.main_window import MainWindow

    playbooks, problems = all_playbooks()
    assert problems == []
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat)
    settings.setValue("playbook", "refunds")
    w = MainWindow(load_config(), playbooks, settings, use_model=False)
    qtbot.addWidget(w)
    w.show()
    return w


def test_playbook_titles_and_tips_show_exactly_as_written(window):
    panel = window.checklist
    assert panel.heading.text() == "Refunds <2024> & credits"
    assert panel.heading.textFormat() == Qt.PlainText
    assert [panel.steps.item(n).text() for n in range(panel.steps.count())] == ["1. Refund <50 & >10", "2. Close <politely>"]
    assert shown(panel.steps.item(0).toolTip()) == "Use <i>care</i> & check the order"
    assert shown(panel.tips.text()).splitlines() == [
        "Refund <50 & >10", "Use <i>care</i> & check the order", "<b>x</b>", 'Say: "less than <50"']


def test_the_current_step_in_compact_mode_shows_its_title_as_written(window):
    window.checklist.toggle_row(0)
    window.set_compact(True)
    assert window.current_step.text() == "Now: Close <politely>"
    assert window.current_step.textFormat() == Qt.PlainText
    assert shown(window.checklist.tips.text()).splitlines()[0] == "Close <politely>"


def test_a_prompt_reason_shows_as_written(window):
    window.on_event(Prompt(3.0, "slow_down", "<b>182</b> words/min & rising"))
    assert window.banner.reason.text() == "<b>182</b> words/min & rising"
    assert window.banner.reason.textFormat() == Qt.PlainText
    window.show_problem("error", "Cannot open <default> & retry")
    assert window.banner.reason.text() == "Cannot open <default> & retry"
    assert window.statusBar().currentMessage() == "Cannot open <default> & retry"


def test_the_call_summary_shows_outside_text_as_written(qtbot):
    from ui.call.summary_dialog import SummaryDialog

    dialog = SummaryDialog(65.0, None, [Prompt(1.0, "<i>custom</i>", "r")], 1, 2)
    qtbot.addWidget(dialog)
    assert shown(dialog.summary.text()).splitlines() == ["Call length 01:05", "Cues <i>custom</i> ×1", "Checklist 1 of 2 steps"]


def test_the_replay_shows_transcript_and_comments_as_written(qtbot):
    from ui.review.replay_window import ReplayWindow

    doc = {"duration_s": 10.0, "prompts": [{"t": 2.0, "kind": "slow_down", "reason": "<b>190</b> words/min"}],
           "turns": [], "interruptions": [], "pace": [],
           "call": {"id": 1, "started_at": "2026-01-01T10:00:00", "comments": [{"t": 1.0, "text": "<i>good</i> & calm"}],
                    "segments": [{"party": "agent", "start": 0.5, "end": 2.0, "text": "a refund <50 & >10"}]}}
    replay = ReplayWindow(doc)
    qtbot.addWidget(replay)
    assert replay.transcript.item(0).text() == "You  00:00   a refund <50 & >10"
    assert replay.moments.item(0).text() == "00:01  Comment: <i>good</i> & calm"
    replay.jump_prompt(+1)
    assert replay.banner.reason.text() == "<b>190</b> words/min"
    assert replay.banner.reason.textFormat() == Qt.PlainText

