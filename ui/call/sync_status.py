"""The status bar's team sync state: "Team: synced", "Team: 3 waiting", "Team: server unreachable since
14:05", "Team: refused — <why>", from the sync worker's TeamSyncStatus events. The worker publishes on
its own thread; the events reach the label through an EventBridge of its own (the worker only queues),
so no widget is touched off the GUI thread. Hidden when this machine has no team connection."""

from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel, QStatusBar

from ui.bridge import EventBridge

REFUSED_CHARS = 70  # the rest of a refusal's sentence is in the tooltip
COLOURS = {"unreachable": "#8a5a00", "refused": "#b3261e"}


def since_text(since: Optional[float], now: Optional[float] = None) -> str:
    """" since 14:05" today, " since 29 Nov 14:05" before; "" when unknown."""
    if not since:
        return ""
    then, today = time.localtime(since), time.localtime(now if now is not None else time.time())
    same_day = (then.tm_year, then.tm_yday) == (today.tm_year, today.tm_yday)
    return " since " + time.strftime("%H:%M" if same_day else "%d %b %H:%M", then)


def status_text(status) -> str:
    """The label's words for a TeamSyncStatus."""
    if status.state == "synced":
        return "Team: synced"
    if status.state == "waiting":
        return f"Team: {status.pending} waiting" if status.pending else "Team: synced"
    if status.state == "unreachable":
        return "Team: server unreachable" + since_text(status.since)
    message = " ".join((status.message or "").split())
    if len(message) > REFUSED_CHARS:
        message = message[:REFUSED_CHARS - 1].rstrip() + "…"
    return f"Team: refused — {message}" if message else "Team: refused"


class TeamSyncStatusBar(QObject):
    """Owns the label (added to `bar`) and the sync worker; `start()` when the window opens, `stop()` when it closes."""

    def __init__(self, bar: QStatusBar, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setObjectName("teamSync")
        self.label.setTextFormat(Qt.PlainText)  # the server's message, shown as written
        self.label.hide()
        bar.addPermanentWidget(self.label)
        self.bridge = EventBridge(self)
        self.bridge.event.connect(self.show_status)
        self.worker = None
        self.status = None

    def start(self) -> None:
        """Start the worker when this machine uploads to a team server (an agent's); a supervisor's
        machine only says it is connected; without a team connection the label stays hidden."""
        from companion.team.errors import TeamError
        from companion.team.settings import load
        from companion.team.sync import TeamSyncStatus
        from companion.team.sync_worker import start_sync

        try:
            settings = load()
        except TeamError as exc:  # a team.toml that cannot be read: say so, upload nothing
            self.show_status(TeamSyncStatus("refused", 0, None, exc.message))
            return
        if not settings.connected:
            self.label.hide()
            return
        if not settings.uploads:
            self.show_text(f"Team: connected as {settings.role or 'member'}",
                           "Calls on this machine are not uploaded; History… has the Team source.")
            return
        self.show_text("Team: starting…", "The team sync is starting.")
        self.worker = start_sync(publish=self.bridge.post)  # bridge.post: any thread, queued for the GUI thread

    def show_status(self, status) -> None:
        """GUI thread: one TeamSyncStatus."""
        self.status = status
        self.show_text(status_text(status), status.message or status_text(status), COLOURS.get(status.state))

    def show_text(self, text: str, tip: str, colour: Optional[str] = None) -> None:
        self.label.setText(text)
        self.label.setToolTip(tip)
        self.label.setStyleSheet(f"color: {colour};" if colour else "")
        self.label.show()

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop(timeout=3.0)  # an upload in flight finishes or is dropped; the call stays queued
