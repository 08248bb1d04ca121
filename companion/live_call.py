"""Wiring one live call, in one place for the window and `companion live`: the call's session, what
listens to it, keeping it in the store (and its audio, with the consent notice), an events file, and
the team sync for the call.

    session = open_live_call(config, playbook, model, subscribers=[printer], on_consent=say)
    session.start_live(devices)        # or start_demo(...) for a call that is not kept (keep=False)
    ...
    session.close()                    # the store, the audio, the events file and the team sync finish

What differs between the window and the console is passed in: who listens (`subscribers`, `follow`),
how the consent notice is said (`on_consent`), and whether this call runs its own team sync
(`team_sync`: the console does; the window runs one for as long as it is open).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Optional

from companion.asr.engine import LoadedModel
from companion.config import CoachingConfig
from companion.playbooks import Playbook
from companion.session import CallSession

if TYPE_CHECKING:
    from companion.team.sync import TeamSyncStatus
    from companion.team.sync_worker import SyncWorker

SYNC_WAIT_S = 5.0  # after the call: how long the team sync may take to send it before it stops


def open_live_call(config: CoachingConfig, playbook: Optional[Playbook] = None, model: Optional[LoadedModel] = None,
                   *, keep: bool = True, record_audio: Optional[bool] = None, events_file: Optional[str] = None,
                   append: bool = False, subscribers: Iterable[Callable[[object], None]] = (),
                   follow: Iterable[Callable[[CallSession], None]] = (),
                   on_consent: Optional[Callable[[str], None]] = None,
                   team_sync: Optional[Callable[[TeamSyncStatus], None]] = None) -> CallSession:
    """A call's session, wired and ready to start (nothing is captured yet; `close()` undoes all of it).

    - `subscribers` hear every event of the call, and `follow(session)` is called with it (a window's
      bridge, the team live publisher), before anything keeps the call, so they see it from its first event;
    - `events_file`: every event as a JSON line (companion.event_json), the store's privacy rules applied;
      started afresh unless `append`; finished when the session closes;
    - `keep`: saved in the local store as it happens ("live", with the playbook's id), and its audio when
      `record_audio` (default: the user's Settings → Privacy), said once through `on_consent`;
    - `team_sync`: a team sync for this call (when this machine is an agent's), started before the call is
      kept and given `SYNC_WAIT_S` to send it when the session closes; its states go to `team_sync`.
    """
    session = CallSession(config, playbook, model=model)
    if events_file:
        from companion.event_json import JsonlWriter

        writer = JsonlWriter(events_file, append=append, redaction=config.privacy.redact)
        session.bus.subscribe(writer)
        session.on_close(lambda timeout: writer.close())
    for subscriber in subscribers:
        session.bus.subscribe(subscriber)
    for hook in follow:
        hook(session)
    if not keep:
        return session
    sync: Optional[SyncWorker] = None
    if team_sync is not None:
        from companion.team.sync_worker import start_sync

        sync = start_sync(publish=team_sync)  # before the call is kept: see start_sync
    record = config.privacy.record_audio if record_audio is None else record_audio
    session.keep("live", playbook=playbook.id if playbook is not None else None, record_audio=record)
    if sync is not None:
        worker = sync

        def stop_sync(timeout: float) -> None:
            worker.wait_idle(SYNC_WAIT_S)  # the call just ended leaves with it when the server answers
            worker.stop()

        session.on_close(stop_sync)  # after the recorder's close: the call is closed, and queued for the team
    if record and on_consent is not None:
        from companion.store.recording import CONSENT_REMINDER

        on_consent(CONSENT_REMINDER)
    return session
