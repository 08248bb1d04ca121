"""Events from the pipeline's threads into the GUI thread: a call's bus (and the team sync's status), a
stream of events as they happen. One piece of work run off the GUI thread, with its result or error
back on it, is a background task instead (ui/tasks.py).

Worker threads only put events in a queue and, when it was empty, wake the GUI
thread with an argument-less queued signal (no Python objects cross threads in
Qt's event queue). The GUI thread drains the queue in slices of a few
milliseconds, so a burst of events (an hour of transcript) never stalls the
event loop: between slices Qt paints and handles input.
"""

from __future__ import annotations

import queue
import time
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from companion.bus import EventBus

SLICE_S = 0.012


class EventBridge(QObject):
    """Attach it to a bus; connect to `event`, which is emitted on the GUI thread."""

    event = Signal(object)
    _wake = Signal()

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._scheduled = False
        self._unsubscribe: Optional[Callable[[], None]] = None
        self._wake.connect(self._drain, Qt.QueuedConnection)

    def attach(self, bus: EventBus) -> None:
        self.detach()
        self._unsubscribe = bus.subscribe(self.post)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def post(self, event: object) -> None:
        """Any thread: queue the event for the GUI thread."""
        self._queue.put(event)
        if not self._scheduled:
            self._scheduled = True
            self._wake.emit()

    def _drain(self) -> None:
        self._scheduled = False
        deadline = time.perf_counter() + SLICE_S
        while time.perf_counter() < deadline:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            self.event.emit(event)
        if not self._queue.empty() and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._drain)  # the rest after Qt has had its turn (never once the bridge is gone)
