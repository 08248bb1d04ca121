"""`companion live`: a real call, headless. The same pipeline as the window; prompts printed as they happen."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Callable, Optional

from companion.asr.engine import LoadedModel
from companion.audio.device_choice import DeviceChoice, load_choice, save_choice
from companion.audio.devices import DeviceInventory, InputDevice, customer_source_guide, inventory, resolve
from companion.config import CoachingConfig
from companion.errors import DeviceError
from companion.events import (
    CustomerState,
    DeviceStatus,
    Interruption,
    Prompt,
    SaveFailed,
    SavingResumed,
    StoringPaused,
    TranscriberFailed,
)
from companion.live_call import open_live_call
from companion.payment_cues import pause_notice
from companion.prompt_kinds import prompt_kind
from companion.timeline import MOOD_LABELS, clock

if TYPE_CHECKING:
    from companion.team.sync import TeamSyncStatus


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


def pause_how(stream: Optional[IO[str]] = None) -> Optional[str]:
    """How pause for payment is asked for in this run: 'p' and Enter only when stdin is a terminal
    (nothing reads the keys otherwise), SIGUSR1 where the platform has one; None when neither."""
    ways = ["p and Enter"] if _is_terminal(stream or sys.stdin) else []
    if hasattr(signal, "SIGUSR1"):
        ways.append(f"kill -USR1 {os.getpid()}")
    return ", or ".join(ways) or None


HAND = threading.Event()  # 'h' and Enter: raise (or lower) a hand to the team's supervisors (issue 25)


def pause_keys(toggle: threading.Event, stream: Optional[IO[str]] = None) -> Optional[threading.Thread]:
    """On a terminal, 'p' and Enter asks for pause for payment (or to resume): sets `toggle`; 'h' and
    Enter raises a hand to the team's supervisors (or lowers it): sets HAND."""
    stream = stream or sys.stdin
    if not _is_terminal(stream):
        return None

    def read() -> None:
        for line in stream:
            if line.strip().lower() in ("p", "pause"):
                toggle.set()
            elif line.strip().lower() in ("h", "hand"):
                HAND.set()

    thread = threading.Thread(target=read, name="pause-keys", daemon=True)
    thread.start()
    return thread


def offer_pause(toggle: threading.Event, stream: Optional[IO[str]] = None, err: IO[str] = sys.stderr) -> Optional[str]:
    """Read 'p' and Enter when stdin is a terminal, and say once how pause for payment is asked for here
    (only what works: with stdin a pipe or /dev/null, the keys are not read). Returns that, or None."""
    stream = stream or sys.stdin
    pause_keys(toggle, stream)
    how = pause_how(stream)
    if how is None:
        print("companion: pause for payment is not available here (stdin is not a terminal and this system has no "
              "SIGUSR1); use the window to pause.", file=err, flush=True)
    else:
        unread = "" if _is_terminal(stream) else " (stdin is not a terminal: keys are not read)"
        print(f"companion: pause for payment (nothing said is stored) with {how}; again to resume{unread}.",
              file=err, flush=True)
    return how


class ConsolePrinter:
    """Prompts on stdout as they happen; line status and interruptions on stderr."""

    def __init__(self, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr, pause_how: Optional[str] = None,
                 auto_resume_s: float = 20.0):
        self.out, self.err, self.pause_how, self.auto_resume_s = out, err, pause_how, auto_resume_s
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        say = _SAY.get(type(event))
        if say is None:
            return
        stream, line = say(self, event)
        with self._lock:
            print(line, file=self.out if stream == "out" else self.err, flush=True)

    def _prompt(self, event: Prompt) -> tuple[str, str]:
        return "out", f"{clock(event.t)}  {prompt_kind(event.kind).label} — {event.reason}"

    def _device(self, event: DeviceStatus) -> tuple[str, str]:
        return "err", f"{clock(event.t)}  [{event.party}] {event.message}"

    def _interruption(self, event: Interruption) -> tuple[str, str]:
        who = "You talked over the customer" if event.by == "agent" else "The customer cut in"
        return "err", f"{clock(event.t)}  ({who} for {event.overlap_s:.1f} s)"

    def _failure(self, event: TranscriberFailed | SaveFailed | SavingResumed) -> tuple[str, str]:
        return "err", f"companion: {event.message}"

    def _customer(self, event: CustomerState) -> tuple[str, str]:
        return "err", f"{clock(event.t)}  (customer: {MOOD_LABELS.get(event.state, event.state).lower()})"

    def _pause(self, event: StoringPaused) -> tuple[str, str]:
        return "err", f"{clock(event.t)}  {pause_notice(event, self.pause_how, self.auto_resume_s)}"


# What the console says of an event, and where: prompts on stdout, the rest on stderr; other events say nothing.
_SAY: dict[type, Callable[[ConsolePrinter, Any], tuple[str, str]]] = {
    Prompt: ConsolePrinter._prompt,
    DeviceStatus: ConsolePrinter._device,
    Interruption: ConsolePrinter._interruption,
    TranscriberFailed: ConsolePrinter._failure,
    SaveFailed: ConsolePrinter._failure,
    SavingResumed: ConsolePrinter._failure,
    CustomerState: ConsolePrinter._customer,
    StoringPaused: ConsolePrinter._pause,
}


class SyncPrinter:
    """The team sync's state on stderr, when it changes ("team: 2 waiting", "team: server unreachable")."""

    def __init__(self, err: IO[str] = sys.stderr):
        self.err = err
        self._last: Optional[tuple[str, Optional[str]]] = None

    def __call__(self, status: TeamSyncStatus) -> None:
        said = (status.state, status.message)
        if said != self._last:
            self._last = said
            print(f"companion: team: {status.message or status.state}", file=self.err, flush=True)


@dataclass(frozen=True)
class LiveDevices:
    agent: InputDevice
    agent_channel: int
    customer: InputDevice
    customer_channel: int


def choose_devices(agent: Optional[str], customer: Optional[str], agent_channel: Optional[int] = None,
                   customer_channel: Optional[int] = None, inv: Optional[DeviceInventory] = None) -> LiveDevices:
    """Devices from the command line, else the remembered choice, else the platform defaults."""
    inv = inv or inventory()
    remembered = load_choice()

    def pick(asked: Optional[str], saved: Optional[str], default: Optional[InputDevice]) -> Optional[InputDevice]:
        if asked:
            return resolve(asked, inv)
        if saved:
            try:
                return resolve(saved, inv)
            except DeviceError:
                pass  # the remembered device is not here today: use the default
        return default

    agent_dev = pick(agent, remembered.agent, inv.default_agent)
    if agent_dev is None:
        raise DeviceError("No microphone found for the agent; connect a headset, or name one with --agent-device.")
    customer_dev = pick(customer, remembered.customer, inv.default_customer)
    if customer_dev is None:
        raise DeviceError(customer_source_guide())
    same = customer_dev.key == agent_dev.key
    a_ch = agent_channel if agent_channel is not None else 0
    c_ch = customer_channel if customer_channel is not None else (1 if same else 0)
    for dev, ch, who in ((agent_dev, a_ch, "agent"), (customer_dev, c_ch, "customer")):
        if not 0 <= ch < dev.channels:
            raise DeviceError(f"{dev.name} has {dev.channels} input channel(s); the {who} channel {ch} does not exist.")
    if same and a_ch == c_ch:
        raise DeviceError(f"Both parties are on channel {a_ch} of {agent_dev.name}; give the customer another channel "
                          "(--customer-channel) or another device (--customer-device).")
    save_choice(DeviceChoice(agent=agent_dev.key, customer=customer_dev.key))
    return LiveDevices(agent_dev, a_ch, customer_dev, c_ch)


def run_live(config: CoachingConfig, devices: LiveDevices, model: Optional[LoadedModel], events_jsonl: Optional[str],
             duration: Optional[float], stop: threading.Event, out: IO[str] = sys.stdout, store: bool = True,
             append: bool = False, toggle_pause: Optional[threading.Event] = None) -> dict[str, Any]:
    """Coach a live call until `stop` is set or `duration` passes; each time `toggle_pause` is set,
    storing pauses for payment or resumes. Returns a short tally."""
    to = out if events_jsonl != "-" else sys.stderr  # stdout is the events file's
    printer = ConsolePrinter(out=to, pause_how=pause_how() if toggle_pause is not None else None,
                             auto_resume_s=config.privacy.auto_resume_s)
    # every live call is kept, and sent to the team server when this machine is an agent's
    session = open_live_call(config, model=model, keep=store, events_file=events_jsonl, append=append,
                             subscribers=[printer], on_consent=lambda notice: print(f"companion: {notice}", file=sys.stderr),
                             team_sync=SyncPrinter())
    live = None
    if store:  # the call's live state for the team's supervisors, when this machine is an agent's (issue 25)
        from companion.team.live_console import start_for_live, toggle_hand

        live = start_for_live(session, out=to, keys=_is_terminal(sys.stdin))
    try:
        session.start_live(devices)  # a device that cannot be opened ends the session, and says why
        deadline = None if duration is None else time.monotonic() + duration
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if toggle_pause is not None and toggle_pause.is_set():
                toggle_pause.clear()
                session.pause_storing(not session.storing_paused)
            if HAND.is_set() and store:
                HAND.clear()
                toggle_hand(live)
            stop.wait(0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
    finally:
        session.close()  # the last captured audio still goes in; the store, the events file and the team sync finish
        if live is not None:
            live.stop(2.0)  # offline, if the server answers at once; the call never waits longer
    capture, pipeline, recorder = session.capture, session.pipeline, session.recorder
    assert capture is not None  # start_live raises when it cannot capture
    return {"duration_s": round(capture.now(), 1), "overflows": capture.overflows,
            "dropped_blocks": pipeline.frames.dropped + sum(t.dropped for t in pipeline.transcribers.values()),
            "call_id": recorder.call_id if recorder is not None else None,
            "save_failed": recorder.failed if recorder is not None else None}
