"""The one pipeline: bounded queue, monitor thread, subscribers."""

from __future__ import annotations

import threading

import numpy as np

from companion.bus import EventBus
from companion.events import CallEnded, FrameBlock, MetricsSnapshot
from companion.frame_queue import FrameQueue
from companion.pipeline import CallPipeline


def silent_block(i, n=25):
    return FrameBlock(i * n, np.zeros((n, 320), np.float32), np.zeros((n, 320), np.float32))


def test_live_capture_never_waits_and_counts_what_it_drops():
    queue = FrameQueue(2)
    assert queue.offer(silent_block(0)) and queue.offer(silent_block(1))
    assert not queue.offer(silent_block(2))
    assert queue.dropped == 1


def test_metrics_are_published_every_second_and_the_call_ends(config):
    pipeline = CallPipeline(config)
    seen = []
    pipeline.bus.subscribe(seen.append)
    pipeline.run(silent_block(i) for i in range(10))  # 5 s
    metrics = [e for e in seen if isinstance(e, MetricsSnapshot)]
    assert [m.t for m in metrics][:5] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert isinstance(seen[-1], CallEnded) and seen[-1].duration_s == 5.0


def test_a_failing_subscriber_does_not_stop_the_call(config, capsys):
    pipeline = CallPipeline(config)
    seen = []

    def broken(event):
        raise RuntimeError("view went away")

    pipeline.bus.subscribe(broken)
    pipeline.bus.subscribe(seen.append)
    pipeline.run(silent_block(i) for i in range(4))
    assert isinstance(seen[-1], CallEnded)
    assert capsys.readouterr().err.count("view went away") == 1


def test_events_arrive_on_the_monitor_thread_not_the_feeder(config):
    pipeline = CallPipeline(config)
    threads = set()
    pipeline.bus.subscribe(lambda e: threads.add(threading.current_thread().name))
    pipeline.run(silent_block(i) for i in range(4))
    assert threads == {"call-monitor"}


def test_unsubscribe():
    bus = EventBus()
    seen = []
    off = bus.subscribe(seen.append)
    bus.publish(1)
    off()
    bus.publish(2)
    assert seen == [1]
