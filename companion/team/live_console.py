"""The team, live, in `companion live`: the publisher started beside the call when this machine is an
agent's, supervisors' messages printed as a banner of their own (not a coaching cue), the live
state's connection said on stderr when it changes, and a raised hand confirmed."""

from __future__ import annotations

import sys
import threading
from typing import IO, Any, Optional

from companion.events import MessageFromSupervisor
from companion.team.live_publisher import LivePublisher, LiveStatus, SupervisorMessage


class MessagePrinter:
    """A supervisor's message, as a banner on `out`: one that came outside a call (the publisher's
    `on_message`), or one on the call's bus."""

    def __init__(self, out: IO[str] = sys.stdout):
        self.out, self._lock = out, threading.Lock()

    def __call__(self, message: object) -> None:
        """A SupervisorMessage outside a call, or (a subscriber of the call's bus) the call's MessageFromSupervisor."""
        if not isinstance(message, (SupervisorMessage, MessageFromSupervisor)):
            return
        with self._lock:
            bar = "=" * 8
            print(f"{bar} FROM YOUR SUPERVISOR ({message.sender}): {message.text} {bar}", file=self.out, flush=True)


class LiveStatusPrinter:
    def __init__(self, err: IO[str] = sys.stderr):
        self.err = err

    def __call__(self, status: LiveStatus) -> None:
        print(f"companion: team: {status.message}", file=self.err, flush=True)


def start_for_live(session: Any, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr,
                   keys: bool = False) -> Optional[LivePublisher]:
    """The live state of `session`'s call on the team server (None when this machine is not an agent's,
    or [live] publish is off). `keys`: 'h' and Enter is read on this terminal (said once)."""
    from companion.team.live_publisher import start_live_publisher

    printer = MessagePrinter(out)
    publisher = start_live_publisher(session, on_message=printer, on_status=LiveStatusPrinter(err))
    if publisher is not None and session is not None:
        session.bus.subscribe(printer)  # a message during the call comes on its bus (and is kept with the call)
    if publisher is not None and keys:
        print("companion: team: h and Enter raises your hand to your supervisor (again to lower it).", file=err,
              flush=True)
    return publisher


def toggle_hand(publisher: Optional[LivePublisher], err: IO[str] = sys.stderr) -> None:
    """'h' and Enter: raise the hand, or lower it when it is up."""
    if publisher is None:
        print("companion: team: raising a hand needs this machine connected to a team server as an agent.", file=err,
              flush=True)
        return
    if publisher.hand_up:
        publisher.lower_hand()
        print("companion: team: hand lowered.", file=err, flush=True)
    else:
        publisher.raise_hand()
        print("companion: team: hand raised — your supervisor sees it now.", file=err, flush=True)
