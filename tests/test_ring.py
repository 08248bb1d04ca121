"""The capture buffer: callbacks never wait, overflows are counted, nothing is reordered."""

from __future__ import annotations

import threading

import numpy as np

from companion.audio.ring import SampleRing


def test_samples_come_out_in_order_across_the_wrap():
    ring = SampleRing(10)
    assert ring.write(np.arange(6, dtype=np.float32))
    assert list(ring.read(4)) == [0, 1, 2, 3]
    assert ring.write(np.arange(6, 12, dtype=np.float32))  # wraps
    assert list(ring.read()) == [4, 5, 6, 7, 8, 9, 10, 11]
    assert ring.available() == 0 and ring.overflows == 0


def test_a_full_buffer_drops_the_new_block_and_counts_it():
    ring = SampleRing(8)
    assert ring.write(np.ones(6, np.float32))
    assert not ring.write(np.full(4, 2.0, np.float32))
    assert ring.overflows == 1 and ring.dropped_samples == 4
    assert list(ring.read()) == [1.0] * 6
    assert ring.write(np.full(8, 3.0, np.float32))  # room again once read


def test_a_producer_and_a_consumer_on_two_threads_lose_nothing_while_it_fits():
    ring = SampleRing(48000)
    total = 48000 * 5
    got = []

    def produce():
        for start in range(0, total, 480):
            while not ring.write(np.arange(start, start + 480, dtype=np.float32)):
                pass  # (a real callback would drop; here we test ordering under concurrency)

    producer = threading.Thread(target=produce)
    producer.start()
    while producer.is_alive() or ring.available():
        got.append(ring.read())
    producer.join()
    got = np.concatenate(got)
    assert np.array_equal(got, np.arange(total, dtype=np.float32))


def test_the_stream_callback_copies_each_partys_channel_and_counts_overflows():
    from companion.audio.capture import DeviceInput, _Line
    from companion.audio.devices import InputDevice
    from companion.audio.framer import PartyFramer

    device = InputDevice("0", "stereo headset", "ALSA", 2, 48000, 0)
    lines = [_Line("agent", 0, SampleRing(960), PartyFramer(48000, 16000, 320)),
             _Line("customer", 1, SampleRing(960), PartyFramer(48000, 16000, 320))]
    inp = DeviceInput(device, lines)
    block = np.stack([np.full(480, 0.25, np.float32), np.full(480, -0.5, np.float32)], axis=1)

    class Status:
        input_overflow = True

        def __bool__(self):
            return True

    inp.callback(block, 480, None, None)
    inp.callback(block, 480, None, Status())   # PortAudio itself reports an overflow
    inp.callback(block, 480, None, None)       # and our ring is full: dropped and counted
    assert inp.port_overflows == 1
    assert lines[0].ring.overflows == 1 and lines[0].ring.dropped_samples == 480
    assert set(lines[0].ring.read().tolist()) == {0.25} and set(lines[1].ring.read().tolist()) == {-0.5}
    assert inp.first_data is not None and inp.last_data >= inp.first_data
