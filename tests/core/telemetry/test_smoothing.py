"""Smoothing and axes against TensorBoard's algorithms, transcribed here as plain loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.telemetry.smoothing import XAxis, nice_domain, smooth_ema, x_values, y_range


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """TensorBoard's classicSmoothing, line by line."""
    if all(value == values[0] for value in values):
        return list(values)
    last, count, result = 0.0, 0, []
    for value in values:
        if not math.isfinite(value):
            result.append(value)
            continue
        last = last * weight + (1 - weight) * value
        count += 1
        result.append(last / (1 if weight == 1 else 1 - weight**count))
    return result


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.9, 0.99, 0.999, 1.0])
def test_smoothing_matches_tensorboard(weight: float) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(5.0, 2.0, size=5000) * np.exp(rng.normal(size=5000))
    values[::97] = np.nan
    values[13] = np.inf
    values[14] = -np.inf

    smoothed = smooth_ema(values, weight)
    expected = np.array(tensorboard_smoothing(values.tolist(), weight))

    assert np.array_equal(np.isnan(smoothed), np.isnan(expected))
    assert np.array_equal(smoothed[~np.isfinite(values)], values[~np.isfinite(values)], equal_nan=True)
    finite = np.isfinite(expected)
    assert np.allclose(
        smoothed[finite], expected[finite], rtol=1e-9, atol=1e-9 * np.abs(values[finite]).max()
    )


def test_smoothing_special_cases() -> None:
    assert smooth_ema([]).size == 0
    assert smooth_ema([2.5, 2.5, 2.5], 0.9).tolist() == [2.5, 2.5, 2.5]  # constant series unchanged
    assert smooth_ema([1.0, 3.0], 0.6)[0] == 1.0  # debiasing: the first point is its own value
    assert smooth_ema([1.0, 3.0], 0.6)[1] == pytest.approx((0.4 * 0.6 + 0.4 * 3.0) / (1 - 0.36))
    assert smooth_ema([1.0, 3.0], 7.0).tolist() == [0.0, 0.0]  # clamped to 1: the average never moves
    assert smooth_ema([1.0, 3.0], math.nan).tolist() == [1.0, 3.0]  # not a number: no smoothing
    huge = smooth_ema([1e300, -1e300, 1e300], 0.001)
    assert np.all(np.isfinite(huge))


@pytest.mark.parametrize("weight", [0.05, 0.6, 0.9999])
def test_a_long_series_matches_across_the_vectorised_blocks(weight: float) -> None:
    values = np.random.default_rng(0).normal(3.0, 1.0, size=200_000)

    smoothed = smooth_ema(values, weight)

    assert np.allclose(smoothed, tensorboard_smoothing(values.tolist(), weight), rtol=1e-10, atol=1e-10)


def test_x_axes() -> None:
    steps = np.array([10, 20, 30])
    walls = np.array([1_700_000_000.0, 1_700_000_060.0, 1_700_003_600.0])

    assert x_values(steps, walls, XAxis.STEP).tolist() == [10.0, 20.0, 30.0]
    assert x_values(steps, walls, "relative").tolist() == [0.0, 60.0, 3600.0]
    assert x_values(steps, walls, XAxis.WALL).tolist() == walls.tolist()
    with pytest.raises(ValueError):
        x_values(steps, walls, "epochs")


def test_nice_domains_as_d3_computes_them() -> None:
    # [0, 1] padded by 5% is [-0.05, 1.05]; d3's nice() with 10 ticks rounds it to tenths.
    assert nice_domain(0.0, 1.0) == pytest.approx((-0.1, 1.1))
    # [-3, 1234] padded is [-64.85, 1295.85]: tick step 100.
    assert nice_domain(-3.0, 1234.0) == (-100.0, 1300.0)
    assert nice_domain(5.0, 5.0) == (0.0, 10.0)
    assert nice_domain(-2.0, -2.0) == (-4.0, 0.0)
    assert nice_domain(0.0, 0.0) == (-1.0, 1.0)


def test_y_range_can_ignore_outliers() -> None:
    values = np.concatenate([np.linspace(1.0, 2.0, 98), [1000.0, -1000.0], [np.nan, np.inf]])

    low, high = y_range(values)  # type: ignore[misc]
    assert low <= -1000 and high >= 1000
    low, high = y_range(values, ignore_outliers=True)  # type: ignore[misc]
    assert 0.8 <= low <= 1.05 and 1.95 <= high <= 2.2
    assert y_range([np.nan]) is None
    assert y_range([1.0, 2.0], [3.0]) == nice_domain(1.0, 3.0)
