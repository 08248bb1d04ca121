"""The windows' one way to run work off the GUI thread: `Tasks.run(work, done, failed)`.

`work()` runs on a worker thread; `done(result)` or `failed(exception)` is then called on the GUI
thread, so a window never waits on a disk, a model or a server and no widget is touched off the GUI
thread. A window owns a `Tasks` (`Tasks(window)`): once it is closed (`close()`, or the window is
destroyed) the tasks not yet started never start and no answer is delivered any more, so a window that
went away is never called back. `serial=True` runs the tasks one after another, in order, on one
thread of their own (what a single server connection needs); otherwise each task has its own thread.
`run_reporting` also carries progress (a download's) to the GUI thread, the latest value only.

The workers only queue answers and wake the GUI thread with an argument-less queued signal: no Python
object crosses threads in Qt's event queue. The worker threads are daemons: a query hung on a server
never holds the application open.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import weakref
from typing import Any, Callable, Generic, Optional, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

T = TypeVar("T")
P = TypeVar("P")

Done = Callable[[T], None]
Failed = Callable[[Exception], None]


class _Inbox(QObject):
    """The GUI thread's end: workers queue a delivery and wake it; it runs the deliveries in order."""

    _wake = Signal()

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._scheduled = False
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def post(self, deliver: Callable[[], None]) -> None:
        """Any thread: `deliver()` runs on the GUI thread."""
        self._queue.put(deliver)
        if not self._scheduled:
            self._scheduled = True
            try:
                self._wake.emit()
            except RuntimeError:  # the application is gone: nobody is left to answer
                pass

    def _drain(self) -> None:
        self._scheduled = False  # before draining: a delivery queued from now on wakes us again
        while True:
            try:
                deliver = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                deliver()
            except Exception:  # noqa: BLE001 - a callback's bug is reported, and the other answers still arrive
                sys.excepthook(*sys.exc_info())


_current: list[_Inbox] = []  # the running application's inbox


def _inbox() -> _Inbox:
    """The inbox of the running application (made on the GUI thread, a child of the application)."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("ui.tasks needs a running QApplication")
    if _current and shiboken6.isValid(_current[0]) and _current[0].parent() is app:
        return _current[0]
    _current[:] = [_Inbox(app)]
    return _current[0]


class Task(Generic[T]):
    """One piece of work: `cancel()` it (it does not start, or its answer is dropped); `running_for()`
    says how long it has run (0 before it started and after it ended)."""

    def __init__(self, work: Callable[[], T], done: Optional[Done[T]], failed: Optional[Failed]):
        self._work, self._done, self._failed = work, done, failed
        self.cancelled = False
        self.finished = False   # its answer was delivered (or dropped) on the GUI thread
        self._started: Optional[float] = None

    def cancel(self) -> None:
        self.cancelled = True

    def running_for(self) -> float:
        started = self._started
        return time.monotonic() - started if started is not None else 0.0


class Tasks:
    """The background tasks of one window (or pane): `run`, `run_reporting`, `close`.

    `owner`: the window; when it is destroyed the tasks close. `serial`: one thread of their own, tasks in
    order. `cleanup`: runs on the worker thread after the last task once the tasks close (a connection
    closed there, on the thread that used it)."""

    def __init__(self, owner: Optional[QObject] = None, serial: bool = False, name: str = "ui-task",
                 cleanup: Optional[Callable[[], None]] = None):
        self._inbox = _inbox()
        self._name = name
        self._cleanup = cleanup
        self._closed = False
        self._tasks: set[Task[Any]] = set()  # not yet answered
        self._lane: Optional[queue.SimpleQueue[Optional[Callable[[], None]]]] = None
        if serial:
            lane: queue.SimpleQueue[Optional[Callable[[], None]]] = queue.SimpleQueue()
            self._lane = lane
            threading.Thread(target=_serve, args=(lane,), name=name, daemon=True).start()
            weakref.finalize(self, lane.put, None)  # dropped unclosed: the lane's thread ends too
        if owner is not None:
            me = weakref.ref(self)
            owner.destroyed.connect(lambda *_: (lambda t: t.close() if t is not None else None)(me()))

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, work: Callable[[], T], done: Optional[Done[T]] = None,
            failed: Optional[Failed] = None) -> Task[T]:
        """GUI thread: run `work()` off it; then `done(result)` or `failed(exception)` on it. Without `failed`,
        an exception is reported as an uncaught one (sys.excepthook), never silently lost."""
        task: Task[T] = Task(work, done, failed)
        if self._closed:
            task.cancelled = task.finished = True
            return task
        self._tasks.add(task)
        self._start(lambda: self._perform(task))
        return task

    def run_reporting(self, work: Callable[[Callable[[P], None]], T], progress: Callable[[P], None],
                      done: Optional[Done[T]] = None, failed: Optional[Failed] = None) -> Task[T]:
        """As `run`, and `work(report)` may call `report(value)` from its thread as often as it likes:
        `progress(value)` follows on the GUI thread with the latest value (values in between may be skipped)."""
        latest: list[P] = []
        lock = threading.Lock()
        task_ref: list[Task[T]] = []

        def deliver_progress() -> None:
            with lock:
                if not latest:
                    return
                value = latest.pop()
                latest.clear()
            if not (task_ref[0].cancelled or self._closed):
                progress(value)

        def report(value: P) -> None:
            with lock:
                first = not latest
                latest[:] = [value]
            if first:
                self._inbox.post(deliver_progress)

        task = self.run(lambda: work(report), done, failed)
        task_ref.append(task)
        return task

    def busy_for(self) -> float:
        """How long the longest-running task has run (0 when none runs)."""
        return max((t.running_for() for t in list(self._tasks)), default=0.0)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def close(self) -> None:
        """No more tasks start and no more answers arrive; `cleanup` follows the task that is running."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        if self._lane is not None:
            if self._cleanup is not None:
                self._lane.put(self._cleanup)
            self._lane.put(None)
        elif self._cleanup is not None:
            threading.Thread(target=self._cleanup, name=f"{self._name}-cleanup", daemon=True).start()

    # --- worker threads ------------------------------------------------------------------------
    def _start(self, job: Callable[[], None]) -> None:
        if self._lane is not None:
            self._lane.put(job)
        else:
            threading.Thread(target=job, name=self._name, daemon=True).start()

    def _perform(self, task: Task[T]) -> None:
        if task.cancelled:
            self._inbox.post(lambda: self._answer(task, None))
            return
        task._started = time.monotonic()
        try:
            outcome: tuple[bool, Any] = (True, task._work())
        except Exception as exc:  # noqa: BLE001 - handed to the GUI thread's `failed`
            outcome = (False, exc)
        finally:
            task._started = None
        self._inbox.post(lambda: self._answer(task, outcome))

    # --- GUI thread ----------------------------------------------------------------------------
    def _answer(self, task: Task[T], outcome: Optional[tuple[bool, Any]]) -> None:
        self._tasks.discard(task)
        task.finished = True
        if outcome is None or task.cancelled or self._closed:
            return
        ok, value = outcome
        if ok:
            if task._done is not None:
                task._done(value)
        elif task._failed is not None:
            task._failed(value)
        else:
            raise value


def _serve(lane: "queue.SimpleQueue[Optional[Callable[[], None]]]") -> None:
    """A serial lane's thread: its jobs in order, until None."""
    while True:
        job = lane.get()
        if job is None:
            return
        try:
            job()
        except Exception:  # noqa: BLE001 - a cleanup's failure must not stop the lane (tasks catch their own)
            sys.excepthook(*sys.exc_info())
