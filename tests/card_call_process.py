"""A live call in a process of its own, for tests that kill it: the bundled demo recording played
through the real pipeline and kept in the real store (`CallSession.keep("live")`, the call writer of
the window and `companion live`), its script as the recogniser's words — the script of
tests/test_events_file_privacy.py, in which the customer reads a card number in four groups with the
agent's "yep" and "ok" between them. Only the stretch around the card is played (from `CUT_S` on), so
the card comes within seconds.

    python -m tests.card_call_process CALL.wav SPEED [--no-redaction]

The store is the one COMPANION_DATA_DIR points at. Prints "started" once the call's row is in.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import soundfile as sf

from companion.asr.scripted import CallScript, ScriptLine

CUT_S = 20.2   # the demo from here on: the agent's line before the card is over, the card starts 0.8 s in
UNTIL_S = 40.0


def card_script() -> CallScript:
    """The card call's script, from `CUT_S` to `UNTIL_S`, on the cut recording's clock."""
    from tests.test_events_file_privacy import card_call_script

    script = card_call_script()
    lines = tuple(ScriptLine(line.party, round(line.start - CUT_S, 3), round(line.end - CUT_S, 3), line.text)
                  for line in script.lines if line.start >= CUT_S and line.end <= UNTIL_S)
    return dataclasses.replace(script, lines=lines)


def card_groups() -> list[tuple[float, float, str]]:
    """(start, end, words) of the customer's segments that hold the card, on the cut clock."""
    from tests.test_events_file_privacy import CARD_GROUPS

    return [(line.start, line.end, line.text) for line in card_script().lines
            if line.party == "customer" and any(group in line.text for group in CARD_GROUPS)]


def cut_recording(target: Path) -> Path:
    from companion.demo import demo_recording

    audio, rate = sf.read(str(demo_recording()), dtype="float32", always_2d=True)
    sf.write(str(target), audio[int(CUT_S * rate):int(UNTIL_S * rate)], rate)
    return target


def main(argv: list[str]) -> int:
    from companion.config import load_config
    from companion.session import CallSession

    wav, speed = Path(argv[0]), float(argv[1])
    config = load_config(use_user_default=False)
    if "--no-redaction" in argv:
        config = dataclasses.replace(config, privacy=dataclasses.replace(config.privacy, redact=False))
    session = CallSession(config)
    session.keep("live")
    session.start_demo(wav, speed=speed, script=card_script())
    print("started", flush=True)
    session.ended.wait(120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
