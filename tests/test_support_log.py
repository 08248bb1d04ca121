"""The support log a user can attach to a request for help: it says what the app did and what went wrong,
in their data folder, readable only by them — and nothing personal is in it (no names, numbers, e-mail
addresses or folder names, even when an error message carries them)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from companion import logs
from tests import scenarios
from tests.commands import companion


def _log_text() -> str:
    path = logs.log_file()
    assert path.exists(), f"no support log at {path}"
    return path.read_text(encoding="utf-8")


def test_a_kept_call_and_a_refused_file_are_in_the_log_without_the_file_s_personal_name(make_call, tmp_path):
    wav, _ = make_call(scenarios.interrupter())
    kept = companion("analyze", wav, "--model", "none", "--save")
    assert kept.returncode == 0, kept.stderr
    personal = tmp_path / "Jane Doe card 4111 1111 1111 1111 jane.doe@example.com.wav"
    personal.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    refused = companion("analyze", personal, "--model", "none")
    assert refused.returncode != 0 and "Jane Doe" in refused.stderr  # the user is told which file
    text = _log_text()
    assert "started: analyze" in text and "analyze ended (exit 0)" in text
    assert "analyze ended: AudioInputError (exit 2)" in text  # the refusal, by its kind
    for secret in ("Jane", "Doe", "4111", "1111", "example.com", str(tmp_path)):
        assert secret not in text, secret
    assert stat.S_IMODE(os.stat(logs.log_file()).st_mode) == 0o600


def test_an_error_s_message_and_traceback_are_scrubbed_before_they_are_written(tmp_path):
    logs.uninstall()
    try:
        assert logs.install("test") == logs.log_file()
        log = logging.getLogger("companion.test")
        try:
            raise ValueError(f"could not parse '{Path.home()}/calls/Mary Smith.wav': card 5500 0000 0000 0004, "
                             "call me on 07700 900123 or mary@example.org")
        except ValueError:
            log.exception("reading call %s", 4242)  # callers pass ids and counts, never names
        log.info("step %d of %d", 3, 7)  # single digits (steps, exit codes) stay readable
    finally:
        logs.uninstall()
    text = _log_text()
    assert "[ValueError]" in text and "Traceback" in text and "test_support_log.py" in text
    for secret in ("Mary", "Smith", "5500", "0004", "07700", "900123", "example.org", "4242", str(Path.home()) + "/"):
        assert secret not in text, secret
    assert "step 3 of 7" in text
