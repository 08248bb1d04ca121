"""The metrics snapshot's pace is read afresh whenever what it is read from changes, and only then the same."""

from __future__ import annotations

from companion.events import FrameBlock
from companion.monitor.call_monitor import CallMonitor
from companion.monitor.pace import smoothings, unit_kind
from tests import signals


def _speaking_agent(config) -> CallMonitor:
    monitor = CallMonitor(config)
    agent = signals.frames(signals.syllables(4.0, 40.0) + signals.noise(40.0))
    customer = signals.frames(signals.noise(40.0, seed=2))
    for first in range(0, len(agent), 50):
        monitor.process(FrameBlock(first, agent[first : first + 50], customer[first : first + 50]))
    return monitor


def test_the_pace_is_read_again_when_the_calibration_or_the_ledger_changes_between_two_snapshots(config):
    monitor = _speaking_agent(config)
    before = monitor.snapshot()
    assert before.pace_wpm is not None and before.pace_short_wpm is not None
    assert monitor.snapshot() == before  # nothing changed: the same reading
    # this agent's nuclei per word learnt mid-call (the session sets a new one): three per word halves a 1.5
    monitor.calibration = {unit_kind(taps, config.pace): 3.0 for taps in smoothings(config.pace)}
    calibrated = monitor.snapshot()
    assert calibrated.pace_calibrated and calibrated.pace_wpm < before.pace_wpm * 0.7
    # more nuclei in the last second, with no new speaking time: the pace goes up
    for kind in {unit_kind(taps, config.pace) for taps in smoothings(config.pace)}:
        monitor.ledger["agent"].add_units(monitor.now - 0.5, 40.0, kind)
    assert monitor.snapshot().pace_wpm > calibrated.pace_wpm
