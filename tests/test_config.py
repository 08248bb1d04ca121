"""Thresholds are data: bundled defaults, overridable by the user's own coaching.toml."""

from __future__ import annotations

import pytest

from companion.config import load_config
from companion.errors import ConfigError


def test_defaults_are_the_published_thresholds():
    config = load_config(use_user_default=False)
    assert config.coach.slow_down.wpm_above == 170
    assert config.coach.lower_tone.loudness_above_db == 6
    assert config.coach.keep_listening.talk_share_above == 0.65
    assert config.coach.keep_listening.monologue_s == 60
    assert config.interruptions.min_overlap_s == 1.5
    assert config.coach.cooldown_s == 20
    assert config.coach.dead_air.enabled is False and config.talk.dead_air_s == 10
    assert config.pace.window_speech_s == 30


def test_a_user_file_overrides_only_what_it_names(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path))
    (tmp_path / "coaching.toml").write_text("[coach.slow_down]\nwpm_above = 180\n[coach.dead_air]\nenabled = true\n")
    config = load_config()
    assert config.coach.slow_down.wpm_above == 180.0
    assert config.coach.slow_down.release_wpm == 160.0
    assert config.coach.dead_air.enabled is True
    assert str(tmp_path / "coaching.toml") in config.sources


@pytest.mark.parametrize(
    "text,message",
    [
        ("[coach.slow_down]\nwpm_abve = 180\n", r"Unknown setting coaching\.coach\.slow_down\.wpm_abve in .*mine\.toml"),
        ("[coach.slow_down]\nwpm_above = 'fast'\n", r"coach\.slow_down\.wpm_above in .*mine\.toml must be a number \(got \"fast\"\)"),
        ("[audio]\nblock_frames = 5\n", r"coaching\.audio\.block_frames in .*mine\.toml is now called audio\.file_block_frames"),
        ("[customer]\nupset_cues = 2\n", r"coaching\.customer\.upset_cues in .*mine\.toml is no longer used \(.*own spread.*\); remove it"),
        ("[vad]\npreroll_gate_db = 3.0\n", r"coaching\.vad\.preroll_gate_db in .*mine\.toml is no longer used \(.*line's own noise.*\); remove it"),
        ("[coach.dead_air]\nenabled = 1\n", "must be true or false"),
        ("[audio]\nframe_ms = 25\n", r"audio\.frame_ms in .*mine\.toml must be 10, 20 or 30 \(got 25\)"),
        ("[coach\n", "not valid TOML"),
    ],
)
def test_a_broken_user_file_is_named_clearly(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
