"""Settings and the pace bar say the same thing: the red recording warning only while recording is on,
and the prompt's pace limit explained beside the pace bar's aim (pytest-qt, offscreen)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QSettings

from companion.config import load_config
from companion.store.recording import CONSENT_REMINDER
from tests.test_coach import BASE
from ui.call.meters import MetersPanel
from ui.settings.settings_dialog import SettingsDialog


@pytest.fixture
def dialog(qtbot, tmp_path):
    def make(record_audio: bool):
        config = load_config()
        if record_audio:
            from dataclasses import replace

            config = replace(config, privacy=replace(config.privacy, record_audio=True))
        d = SettingsDialog(config, settings=QSettings(str(tmp_path / "window.ini"), QSettings.IniFormat))
        qtbot.addWidget(d)
        d.show()
        return d

    return make


def test_the_recording_warning_shows_only_while_record_call_audio_is_ticked(dialog, qtbot):
    d = dialog(record_audio=False)
    assert d.consent.text() == CONSENT_REMINDER
    assert not d.record.isChecked() and not d.consent.isVisible()  # off by default: no red warning
    d.record.setChecked(True)
    assert d.consent.isVisible()
    d.record.setChecked(False)
    assert not d.consent.isVisible()
    on = dialog(record_audio=True)
    assert on.record.isChecked() and on.consent.isVisible()


def test_settings_explains_why_the_prompts_limit_is_above_the_pace_bars_aim(dialog):
    d = dialog(record_audio=False)
    config = load_config()
    low, high = config.coach.slow_down.target_wpm
    limit = config.coach.slow_down.wpm_above
    form = d.scroll.widget().layout()
    assert form.labelForField(d.pace).text() == "“Slow down” prompt above" and d.pace.value() == limit
    note = d.pace_note.text()
    assert f"{low:g}–{high:g} words/min" in note and "only when you stay above this limit" in note
    assert d.pace_note.isVisible()


def test_the_pace_bar_names_its_aim_and_says_where_the_prompt_comes(qtbot):
    config = load_config()
    rule = config.coach.slow_down
    meters = MetersPanel(rule.target_wpm, rule.wpm_above, config.coach.lower_tone.loudness_above_db)
    qtbot.addWidget(meters)
    low, high = rule.target_wpm
    meters.update_metrics(dataclasses.replace(BASE, t=30.0, pace_wpm=166.0, pace_source="asr"))
    assert meters.pace.text() == f"166 words/min — fast (aim {low:.0f}–{high:.0f})"  # above the aim: said, not only amber
    tip = meters.pace.toolTip()
    assert f"Aim for {low:.0f}–{high:.0f} words/min" in tip and f"stay above {rule.wpm_above:.0f}" in tip


def test_no_line_of_settings_is_cut_with_the_warning_shown_or_not(dialog, qtbot):
    """Every wrapped line gets the height its words need (the form scrolls on a short screen instead)."""
    from PySide6.QtWidgets import QLabel

    d = dialog(record_audio=False)
    for record in (False, True, False):
        d.record.setChecked(record)
        qtbot.wait(50)
        labels = [w for w in d.scroll.widget().findChildren(QLabel) if w.wordWrap() and w.isVisibleTo(d)]
        assert d.pace_note in labels and (d.consent in labels) == record
        for label in labels:
            assert label.height() >= label.heightForWidth(label.width()), label.text()[:60]
        assert d.height() <= d.screen().availableGeometry().height()
