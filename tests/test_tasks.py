"""The windows' background tasks (ui/tasks.py): work runs off the GUI thread, its result or error comes
back on the GUI thread, the event loop goes on while it runs, and a closed window is never called back."""

from __future__ import annotations

import threading

import pytest
import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from ui.tasks import Tasks

WAIT_MS = 20_000  # generous: a loaded machine is slow, never wrong


@pytest.fixture
def owner(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def test_the_result_and_the_error_arrive_on_the_gui_thread_from_work_done_on_another(qtbot, owner):
    gui = threading.current_thread()
    tasks = Tasks(owner)
    ran_on, got, errors = [], [], []

    def work():
        ran_on.append(threading.current_thread())
        return 42

    def broken():
        raise ValueError("the disk said no")

    tasks.run(work, done=lambda value: got.append((value, threading.current_thread())))
    tasks.run(broken, done=got.append, failed=lambda exc: errors.append((exc, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got and errors), timeout=WAIT_MS)
    assert ran_on and ran_on[0] is not gui
    assert got == [(42, gui)]
    [(exc, thread)] = errors
    assert isinstance(exc, ValueError) and str(exc) == "the disk said no" and thread is gui


def test_the_event_loop_goes_on_while_a_slow_task_runs(qtbot, owner):
    """The task can only finish once the GUI thread's timer has ticked five times while it waits: a task
    that held the event loop would never end (and the wait below would fail)."""
    tasks = Tasks(owner)
    ticks, ticked_enough = [], threading.Event()
    timer = QTimer(owner)
    timer.setInterval(10)
    timer.timeout.connect(lambda: (ticks.append(1), len(ticks) >= 5 and ticked_enough.set()))
    timer.start()
    ticks_when_done = []

    def slow():
        assert ticked_enough.wait(WAIT_MS / 1000), "the GUI thread's timer stopped while the task ran"
        return "done"

    task = tasks.run(slow, done=lambda value: ticks_when_done.append(len(ticks)))
    qtbot.waitUntil(lambda: bool(ticks_when_done), timeout=WAIT_MS)
    timer.stop()
    assert ticks_when_done[0] >= 5 and task.finished


def test_a_closed_window_is_never_called_back_and_its_waiting_tasks_never_start(qtbot, owner):
    cleaned = threading.Event()
    tasks = Tasks(owner, serial=True, cleanup=cleaned.set)  # what a connection's owner closes after the last task
    release, started, answers = threading.Event(), [], []
    tasks.run(lambda: (started.append("first"), release.wait(WAIT_MS / 1000)), done=answers.append,
              failed=answers.append)
    tasks.run(lambda: started.append("second"), done=answers.append, failed=answers.append)
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT_MS)
    assert not cleaned.is_set()
    tasks.close()
    release.set()
    assert cleaned.wait(WAIT_MS / 1000)  # the lane got past the first task, skipped the second, cleaned up
    later = tasks.run(lambda: started.append("after close"))
    qtbot.wait(50)  # let any (wrong) answer in the queue arrive
    assert started == ["first"] and answers == [] and later.cancelled


def test_a_destroyed_window_closes_its_tasks(qtbot):
    widget = QWidget()
    tasks = Tasks(widget)
    release, answers = threading.Event(), []
    tasks.run(lambda: release.wait(WAIT_MS / 1000), done=answers.append)
    shiboken6.delete(widget)
    assert tasks.closed
    release.set()
    qtbot.wait(50)
    assert answers == []


def test_serial_tasks_run_in_order_on_one_thread(qtbot, owner):
    tasks = Tasks(owner, serial=True)
    seen, answers = [], []
    for n in range(20):
        tasks.run(lambda n=n: seen.append((n, threading.current_thread().name)) or n, done=answers.append)
    qtbot.waitUntil(lambda: len(answers) == 20, timeout=WAIT_MS)
    assert answers == list(range(20))
    assert [n for n, _ in seen] == list(range(20)) and len({name for _, name in seen}) == 1


def test_progress_arrives_on_the_gui_thread_ending_with_the_latest(qtbot, owner):
    gui = threading.current_thread()
    tasks = Tasks(owner)
    shown, done = [], []

    def download(report):
        for n in range(1, 501):
            report(n)
        return "model"

    tasks.run_reporting(download, progress=lambda n: shown.append((n, threading.current_thread())),
                        done=done.append)
    qtbot.waitUntil(lambda: bool(done and shown and shown[-1][0] == 500), timeout=WAIT_MS)
    assert done == ["model"] and all(thread is gui for _, thread in shown)
    assert [n for n, _ in shown] == sorted(n for n, _ in shown)  # never an older value after a newer one


def test_an_error_nobody_handles_is_reported_not_lost(qtbot, owner):
    tasks = Tasks(owner)
    with qtbot.captureExceptions() as caught:
        task = tasks.run(lambda: 1 / 0)
        qtbot.waitUntil(lambda: task.finished, timeout=WAIT_MS)
    assert [type(exc) for _, exc, _ in caught] == [ZeroDivisionError]
