"""The monitor's percentile and median read exactly what numpy's do: swapping one for the other moves no reading."""

from __future__ import annotations

import math

import numpy as np
import pytest

from companion.order_stats import median, percentile

QS = (0.0, 5.0, 10.0, 25.0, 30.0, 33.3, 50.0, 75.0, 90.0, 95.0, 99.9, 100.0)


def rows(seed: int) -> list[np.ndarray]:
    """Rows like the monitor's (levels in dB, semitones) and awkward ones: ties, one value, zeros of both signs."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(600):
        n = int(rng.integers(1, 260))
        kind = k % 5
        if kind == 0:
            out.append(rng.standard_normal(n) * 12.0 - 38.0)
        elif kind == 1:
            out.append(np.round(rng.standard_normal(n) * 3.0, 1))
        elif kind == 2:
            out.append(rng.integers(-3, 3, n).astype(float))
        elif kind == 3:
            out.append(np.full(n, -100.0))
        else:
            out.append(np.round(rng.standard_normal(n)) * 0.0)  # +0.0 and -0.0 mixed
    return out


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))


@pytest.mark.parametrize("seed", [1, 2])
def test_percentile_is_numpys_to_the_last_bit(seed):
    rng = np.random.default_rng(seed + 100)
    for row in rows(seed):
        for q in QS + (float(rng.uniform(0.0, 100.0)),):
            assert same(percentile(row, q), float(np.percentile(row, q))), (row.tolist(), q)


@pytest.mark.parametrize("seed", [3, 4])
def test_median_is_numpys_to_the_last_bit(seed):
    for row in rows(seed):
        assert same(median(row), float(np.median(row))), row.tolist()


def test_lists_deques_and_float32_read_as_numpy_reads_them():
    from collections import deque

    levels = [-31.5, -28.25, -40.0, -29.0, -35.125]
    assert percentile(levels, 90.0) == float(np.percentile(np.asarray(levels, float), 90.0))
    assert median(deque(levels)) == float(np.median(np.fromiter(levels, float)))
    row32 = np.array(levels, dtype=np.float32)
    assert percentile(row32, 10.0) == float(np.percentile(row32.astype(np.float64), 10.0))


def test_a_nan_or_nothing_reads_nan_and_a_bad_percentile_is_refused():
    assert math.isnan(percentile([1.0, float("nan"), 3.0], 50.0))
    assert math.isnan(median([1.0, float("nan"), 3.0, 4.0]))
    assert math.isnan(percentile([], 10.0)) and math.isnan(median([]))
    assert percentile([5.0], 90.0) == 5.0 and median([5.0]) == 5.0
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], 101.0)
