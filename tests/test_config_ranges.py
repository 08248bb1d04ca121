"""Every threshold has a stated range; a value outside it, a value that breaks a rule between
settings, or a file that is not UTF-8 is refused in one line naming the setting and the file."""

from __future__ import annotations

import os
import subprocess
import sys
import typing

import numpy as np
import pytest
import soundfile as sf

from companion.cli import main
from companion.config import CoachingConfig, OneOf, Range, load_config, save_user_overrides, setting_range
from tests.installed import OUTSIDE

LATIN1 = "# Réglages de l'équipe\n[coach.slow_down]\nwpm_above = 180\n".encode("latin-1")


@pytest.fixture
def call_wav(tmp_path):
    """A valid two-channel call: half a second of quiet noise on each side."""
    path = tmp_path / "call.wav"
    sf.write(path, np.random.default_rng(1).normal(0, 0.01, (8000, 2)).astype(np.float32), 16000)
    return path


def _number_settings(cls=CoachingConfig, prefix=""):
    """(key, hint) for every number in the configuration, tuple members included."""
    for name, hint in typing.get_type_hints(cls, include_extras=True).items():
        if name == "sources":
            continue
        base = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
        if isinstance(base, type) and hasattr(base, "__dataclass_fields__"):
            yield from _number_settings(base, f"{prefix}{name}.")
        elif typing.get_origin(base) is tuple:
            for member in typing.get_args(base):
                if member is not Ellipsis and member is not str:
                    yield f"{prefix}{name}", member
        elif base in (int, float):
            yield f"{prefix}{name}", hint


def test_every_number_setting_states_its_allowed_values():
    numbers = list(_number_settings())
    assert len(numbers) > 50
    for key, hint in numbers:
        assert typing.get_origin(hint) is typing.Annotated, f"{key} has no stated range"
        assert any(isinstance(rule, (Range, OneOf)) for rule in hint.__metadata__), key


def test_the_bundled_thresholds_are_inside_their_ranges():
    config = load_config(use_user_default=False)
    assert config.coach.stop_apologizing.max_apologies == 2
    assert setting_range("coach.stop_apologizing.max_apologies") == Range(1, 100)


BAD_VALUES = [
    ("[coach.stop_apologizing]\nmax_apologies = -1\n",
     "coach.stop_apologizing.max_apologies in {file} must be between 1 and 100 (got -1)."),
    ("[coach.stop_apologizing]\nmax_apologies = 0\n",
     "coach.stop_apologizing.max_apologies in {file} must be between 1 and 100 (got 0)."),
    ("[coach.slow_down]\nwpm_above = nan\n", "coach.slow_down.wpm_above in {file} must be between 60 and 400 (got nan)."),
    ("[coach.lower_tone]\nloudness_above_db = inf\n",
     "coach.lower_tone.loudness_above_db in {file} must be between 1 and 40 (got inf)."),
    ("[coach]\ncooldown_s = -5.0\n", "coach.cooldown_s in {file} must be between 0 and 3600 (got -5)."),
    ("[coach.keep_listening]\ntalk_share_above = 1.5\n",
     "coach.keep_listening.talk_share_above in {file} must be between 0 and 1 (got 1.5)."),
    ("[coach.dead_air]\nsilence_s = -inf\n", "coach.dead_air.silence_s in {file} must be between 1 and 3600 (got -inf)."),
    ("[vad]\naggressiveness = 4\n", "vad.aggressiveness in {file} must be between 0 and 3 (got 4)."),
    ("[capture]\nretry_s = [0.5, -1.0]\n", "capture.retry_s in {file} must be between 0.1 and 600 (got -1)."),
    ("[capture]\nretry_s = []\n", "capture.retry_s in {file} must list at least one delay in seconds (got [])."),
    ("[coach.slow_down]\ntarget_wpm = [140, nan]\n",
     "coach.slow_down.target_wpm in {file} must be between 40 and 400 (got nan)."),
    ("[audio]\nframe_ms = 25\n", "audio.frame_ms in {file} must be 10, 20 or 30 (got 25)."),
    ("[audio]\nsample_rate = 44100\n", "audio.sample_rate in {file} must be 8000, 16000, 32000 or 48000 (got 44100)."),
    ("[asr]\nqueue_blocks = 0\n", "asr.queue_blocks in {file} must be between 1 and 10000 (got 0)."),
    # rules between settings: a release below its trigger, ranges that increase, windows that can fill
    ("[coach.slow_down]\nrelease_wpm = 175\n",
     "coach.slow_down.release_wpm in {file} must be below coach.slow_down.wpm_above, which is 170 (got 175)."),
    ("[coach.slow_down]\nwpm_above = 150\n",
     "coach.slow_down.wpm_above in {file} must be above coach.slow_down.release_wpm, which is 160 (got 150)."),
    ("[coach.lower_tone]\nrelease_db = 6.0\n",
     "coach.lower_tone.release_db in {file} must be below coach.lower_tone.loudness_above_db, which is 6 (got 6)."),
    ("[coach.lower_tone]\nrelease_semitones = 5.0\n",
     "coach.lower_tone.release_semitones in {file} must be below coach.lower_tone.pitch_above_semitones, which is 4 (got 5)."),
    ("[coach.keep_listening]\ntalk_share_release = 0.7\n",
     "coach.keep_listening.talk_share_release in {file} must be below coach.keep_listening.talk_share_above, "
     "which is 0.65 (got 0.7)."),
    ("[coach.slow_down]\ntarget_wpm = [160, 140]\n",
     "coach.slow_down.target_wpm in {file} must be two increasing numbers (got [160, 140])."),
    ("[pitch]\nmin_hz = 450.0\n", "pitch.min_hz in {file} must be below pitch.max_hz, which is 400 (got 450)."),
    ("[pace]\nmin_speech_s = 40.0\n", "pace.min_speech_s in {file} must be at most pace.window_speech_s, which is 30 (got 40)."),
    ("[pace]\nenvelope_band_hz = [300.0, 9000.0]\n",
     "pace.envelope_band_hz in {file} must stay at or below half of audio.sample_rate, 8000 Hz (got [300, 9000])."),
]


@pytest.mark.parametrize("text,message", BAD_VALUES, ids=[m.split(" ")[0] + ":" + t.split("= ")[-1].strip() for t, m in BAD_VALUES])
def test_a_threshold_out_of_range_stops_analyze_with_one_line(tmp_path, call_wav, capsys, text, message):
    coaching = tmp_path / "coaching.toml"
    coaching.write_text(text, encoding="utf-8")
    assert main(["analyze", str(call_wav), "--coaching", str(coaching), "--model", "none"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["companion: " + message.format(file=coaching)]


def test_a_nan_threshold_ends_the_command_with_status_2_and_no_traceback(tmp_path, call_wav):
    coaching = tmp_path / "coaching.toml"
    coaching.write_text("[coach.slow_down]\nwpm_above = nan\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "ui", "analyze", str(call_wav), "--coaching", str(coaching)],
                         capture_output=True, text=True, env=dict(os.environ), cwd=OUTSIDE, timeout=120)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"companion: coach.slow_down.wpm_above in {coaching} must be between 60 and 400 (got nan)."]


def test_a_coaching_file_that_is_not_utf8_is_named_with_the_byte(tmp_path, call_wav, capsys):
    coaching = tmp_path / "coaching.toml"
    coaching.write_bytes(LATIN1)
    assert main(["analyze", str(call_wav), "--coaching", str(coaching), "--model", "none"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"companion: Coaching file {coaching} is not UTF-8 text (byte 0xe9 at position 3, line 1); "
                                "save it as UTF-8."]


def test_the_self_check_names_a_coaching_file_that_is_not_utf8(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "my-config"
    folder.mkdir()
    (folder / "coaching.toml").write_bytes(LATIN1)
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(folder))
    assert main(["--self-check"]) == 1
    report = capsys.readouterr().out
    assert f"FAIL  resources: Coaching file {folder / 'coaching.toml'} is not UTF-8 text (byte 0xe9" in report
    assert report.splitlines()[-1].startswith("Not healthy: resources: Coaching file")


def test_a_user_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "coaching.toml"
    path.write_bytes(b"\xef\xbb\xbf[coach.slow_down]\nwpm_above = 180\n")
    assert load_config(path).coach.slow_down.wpm_above == 180


def test_the_settings_boxes_offer_exactly_the_allowed_range_and_save_valid_settings_at_both_ends(qtbot):
    from PySide6.QtWidgets import QDoubleSpinBox

    from ui.settings.settings_dialog import SettingsDialog

    dialog = SettingsDialog(load_config())
    qtbot.addWidget(dialog)
    boxes = dialog.findChildren(QDoubleSpinBox)
    assert {box.objectName() for box in boxes} == {"coach.slow_down.wpm_above", "coach.lower_tone.loudness_above_db",
                                                    "interruptions.min_overlap_s", "coach.cooldown_s"}
    for box in boxes:
        allowed = setting_range(box.objectName())
        assert (box.minimum(), box.maximum()) == (allowed.lo, allowed.hi)
    for end in ("minimum", "maximum"):
        for box in boxes:
            box.setValue(getattr(box, end)())
        save_user_overrides(dialog.changes())  # refused with ConfigError if an end were not a valid setting
        config = load_config()
        assert config.coach.slow_down.wpm_above == dialog.pace.value()
        assert config.coach.cooldown_s == dialog.cooldown.value()
