"""The team live on the agent's window, in one piece for the window to hold: the live publisher (one
per run, following each call's session), the supervisor's message banner and the raise-hand button.

    live = TeamLiveAgent(window)            # after the window is built; starts nothing when not an agent's machine
    layout.insertWidget(0, live.banner)     # where the agent sees it: above the coaching banner
    toolbar.addWidget(live.button)
    live.follow(session)                    # each new call's CallSession, before it starts
    live.idle()                             # the call's summary closed: idle until the next call
    live.stop()                             # the window closes
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject

from companion.events import MessageFromSupervisor
from companion.team.live_publisher import LiveStatus, SupervisorMessage
from ui.bridge import EventBridge
from ui.call.raise_hand import RaiseHandButton
from ui.call.supervisor_message import SupervisorMessageBanner


class TeamLiveAgent(QObject):
    def __init__(self, parent=None, publisher=None, start: bool = True):
        """`publisher`: one already running (tests); otherwise one is started when this machine is connected to a
        team server as an agent (`start`)."""
        super().__init__(parent)
        self.banner = SupervisorMessageBanner(parent)
        self.button = RaiseHandButton(parent)
        self.status: Optional[LiveStatus] = None
        self._bridge = EventBridge(self)
        self._bridge.event.connect(self._on_gui_thread)
        if publisher is None and start:
            from companion.team.live_publisher import start_live_publisher

            publisher = start_live_publisher(on_message=self._bridge.post, on_status=self._bridge.post)
        elif publisher is not None:
            publisher.on_message, publisher.on_status = self._bridge.post, self._bridge.post
        self.publisher = publisher
        self.button.set_publisher(publisher)

    def follow(self, session) -> None:
        """Each call's session: a supervisor's message during the call comes on its bus (kept with the call), and
        is shown from there."""
        if self.publisher is not None:
            self.publisher.attach(session)
            session.bus.subscribe(self._from_the_call)

    def _from_the_call(self, event: object) -> None:
        if isinstance(event, MessageFromSupervisor):  # any thread: to the GUI's
            self._bridge.post(event)

    def idle(self) -> None:
        if self.publisher is not None:
            self.publisher.set_idle()

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop(2.0)
        self.button.set_publisher(None)

    def _on_gui_thread(self, item: object) -> None:
        if isinstance(item, (SupervisorMessage, MessageFromSupervisor)):
            self.banner.show_message(item)
            self.button.sync()
        elif isinstance(item, LiveStatus):
            self.status = item
