"""Publish/subscribe for pipeline events (companion.events.Event).

Subscribers are called on the publishing (monitor) thread and must return
quickly: a UI forwards events to its own thread, a store hands them to a writer.
A failing subscriber is reported on stderr once and never stops the call.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable

from companion.events import Event

Subscriber = Callable[[object], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._failed: set[int] = set()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers = self._subscribers + [callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe

    def publish(self, event: Event) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception as exc:  # a broken view must not end the call
                if id(callback) not in self._failed:
                    self._failed.add(id(callback))
                    print(f"companion: an event subscriber failed and is ignored: {exc!r}", file=sys.stderr)
