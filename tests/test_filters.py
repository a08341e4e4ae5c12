"""The numpy stand-ins for scipy (Blender bundles no scipy) give scipy's numbers: Butterworth design and
zero-phase filtering, PCHIP, and minimum-cost assignment. scipy is a test dependency (requirements.txt)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator
from scipy.optimize import linear_sum_assignment
from scipy.signal import butter, sosfiltfilt

from inference.pose2d.assignment import min_cost_assignment
from retarget import filters, interp, smoothing


@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("wn", [0.03, 0.13, 0.4, 0.9])
def test_butterworth_matches_scipy(order: int, wn: float) -> None:
    x = np.random.default_rng(order).normal(size=(240, 17, 3)).cumsum(axis=0)
    for padlen in (0, 5, 27, 239):
        ref = sosfiltfilt(butter(order, wn, output="sos"), x, axis=0, padlen=padlen)
        ours = filters.sosfiltfilt(filters.butter_lowpass_sos(order, wn), x, padlen=padlen)
        assert np.abs(ours - ref).max() < 1e-9 * max(1.0, np.abs(ref).max())


def test_smoothing_butterworth_is_the_scipy_filter_with_its_default_padding() -> None:
    x = np.random.default_rng(0).normal(size=(90, 4))
    ref = sosfiltfilt(butter(4, 6.0 / 15.0, output="sos"), x, axis=0)
    assert np.abs(smoothing.butterworth(x, 30.0, 6.0) - ref).max() < 1e-10
    short = x[:6]  # padding limited by the clip
    ref = sosfiltfilt(butter(4, 6.0 / 15.0, output="sos"), short, axis=0, padlen=5)
    assert np.abs(smoothing.butterworth(short, 30.0, 6.0) - ref).max() < 1e-10


def test_filter_rejects_bad_design_and_padding() -> None:
    with pytest.raises(ValueError):
        filters.butter_lowpass_sos(4, 1.0)
    with pytest.raises(ValueError):
        filters.sosfiltfilt(filters.butter_lowpass_sos(2, 0.2), np.zeros((5, 2)), padlen=5)


@pytest.mark.parametrize("n", [2, 3, 4, 7, 30])
def test_pchip_matches_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    t = np.sort(rng.choice(300, n, replace=False)).astype(float)
    v = rng.normal(size=(n, 3))
    if n > 3:
        v[2] = v[1]  # a flat stretch (zero secant): derivatives there must be 0
    q = np.arange(-5.0, 310.0, 0.5)
    ref = PchipInterpolator(t, v, axis=0, extrapolate=False)(q)
    ours = interp.pchip(t, v, q)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    assert np.nanmax(np.abs(ours - ref)) < 1e-12


def test_pchip_does_not_overshoot_a_stop() -> None:
    t, v = np.array([0.0, 10, 20, 30]), np.array([[0.0], [1.0], [1.0], [1.0]])
    out = interp.pchip(t, v, np.arange(31.0))
    assert out.max() <= 1.0 + 1e-12 and np.all(np.diff(out[:, 0]) >= -1e-12)


def test_assignment_matches_scipy_total_cost() -> None:
    rng = np.random.default_rng(3)
    for trial in range(400):
        n, m = rng.integers(0, 7, 2)
        cost = rng.random((n, m))
        if trial % 3 == 0:
            cost = np.round(cost * 3)  # ties
        if trial % 4 == 0 and cost.size:
            cost[rng.random(cost.shape) < 0.4] = 1e9  # gated pairs, as the tracker passes them
        r_ref, c_ref = linear_sum_assignment(cost)
        rows, cols = min_cost_assignment(cost)
        assert len(rows) == len(r_ref) == min(n, m)
        assert list(rows) == sorted(rows) and len(set(cols)) == len(cols) and len(set(rows)) == len(rows)
        assert cost[rows, cols].sum() == pytest.approx(cost[r_ref, c_ref].sum(), abs=1e-9)


def test_assignment_rejects_infinite_costs() -> None:
    with pytest.raises(ValueError):
        min_cost_assignment(np.array([[1.0, np.inf]]))
