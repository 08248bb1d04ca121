"""The step checklist of a call: ticked by cue phrases in what the agent says, or by hand."""

from __future__ import annotations

from typing import Optional

from companion.events import FinalSegment, StepTicked
from companion.playbooks import Playbook, normalise


class ChecklistTracker:
    def __init__(self, playbook: Playbook):
        self.playbook = playbook
        self.done: dict[str, StepTicked] = {}

    @property
    def current(self) -> Optional[str]:
        """The first step not yet done, in playbook order."""
        return next((s.id for s in self.playbook.steps if s.id not in self.done), None)

    def on_segment(self, segment: FinalSegment) -> list[StepTicked]:
        """Agent speech that says a step's cue ticks that step (once)."""
        if segment.party != "agent":
            return []
        said = f" {normalise(segment.text)} "
        ticked = []
        for step in self.playbook.steps:
            if step.id in self.done:
                continue
            phrase = next((cue for cue in step.cues if f" {cue} " in said), None)
            if phrase is not None:
                tick = StepTicked(round(segment.end, 2), step.id, step.title, "auto", phrase)
                self.done[step.id] = tick
                ticked.append(tick)
        return ticked

    def set_done(self, step_id: str, t: float, done: bool = True) -> Optional[StepTicked]:
        """A tick (or untick) by hand; None when nothing changes."""
        step = self.playbook.step(step_id)
        if done == (step_id in self.done):
            return None
        tick = StepTicked(round(t, 2), step.id, step.title, "manual", None, done)
        if done:
            self.done[step_id] = tick
        else:
            del self.done[step_id]
        return tick
