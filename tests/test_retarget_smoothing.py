"""Smoothing on real mocap: zero phase, noise reduction, short clips, NaN gaps, One-Euro."""

from __future__ import annotations

import numpy as np
import pytest
from retarget_sim import load_clip

from retarget import smoothing

JOG = "hdm05_bd_jogLeftCircle4StepsRstart_002_120"


def _lag_frames(ref: np.ndarray, sig: np.ndarray, max_lag: int = 10) -> int:
    """Shift k (frames) minimising the mean squared difference sig(t) - ref(t - k) over the interior."""
    n = len(ref)
    mse = [
        np.mean((sig[max_lag : n - max_lag] - ref[max_lag - k : n - max_lag - k]) ** 2)
        for k in range(-max_lag, max_lag + 1)
    ]
    return int(np.argmin(mse)) - max_lag


@pytest.fixture(scope="module")
def jog(mocap_dir) -> tuple[np.ndarray, np.ndarray, float]:
    world, fps = load_clip(mocap_dir, JOG)
    rel = world - world[:, :1]
    noisy = rel + np.random.default_rng(0).normal(0.0, 0.01, rel.shape)
    return rel, noisy, fps


def _err_mm(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b, axis=-1).mean() * 1e3)


def test_butterworth_is_zero_phase_and_denoises(jog) -> None:
    rel, noisy, fps = jog
    from scipy.signal import butter, sosfilt

    out = smoothing.butterworth(noisy, fps, 6.0)
    clean = smoothing.butterworth(rel, fps, 3.0)  # lag is measured on the clean clip (noise blurs the peak)
    chans = [(3, 1), (6, 1), (13, 0), (16, 0), (13, 1)]  # ankles forward, wrists sideways / forward
    lags = [_lag_frames(rel[:, j, k], clean[:, j, k]) for j, k in chans]
    causal = sosfilt(butter(4, 3.0 / (0.5 * fps), output="sos"), rel - rel[0], axis=0) + rel[0]
    causal_lags = [_lag_frames(rel[:, j, k], causal[:, j, k]) for j, k in chans]
    print(
        f"Butterworth 6 Hz on {JOG}: error {_err_mm(out, rel):.1f} mm (noisy input {_err_mm(noisy, rel):.1f} mm); "
        f"3 Hz lags {lags} frames (one-pass causal filter: {causal_lags})"
    )
    assert lags == [0] * len(lags)
    assert min(causal_lags) > 0  # the measurement does see lag when there is some
    assert _err_mm(out, rel) < 0.5 * _err_mm(noisy, rel)


def test_one_euro_denoises_with_small_lag(jog) -> None:
    rel, noisy, fps = jog
    out = smoothing.one_euro(noisy, fps, min_cutoff=1.0, beta=10.0)
    lag = _lag_frames(rel[:, 13, 0], out[:, 13, 0])
    still = smoothing.one_euro(
        np.repeat(rel[:1], 200, 0) + np.random.default_rng(1).normal(0, 0.01, (200, 17, 3)), fps, 1.0, 10.0
    )
    jitter = float(np.abs(np.diff(still[50:], axis=0)).mean() * 1e3)
    print(
        f"One-Euro on {JOG}: error {_err_mm(out, rel):.1f} mm (noisy {_err_mm(noisy, rel):.1f}), wrist lag {lag} "
        f"frames at {fps:.0f} fps; still pose frame-to-frame jitter {jitter:.2f} mm (input ~{0.01 * 1128:.1f})"
    )
    assert _err_mm(out, rel) < _err_mm(noisy, rel)
    assert 0 <= lag <= 6  # causal: a little lag (<= 50 ms here), never lead
    assert jitter < 1.5


def test_short_clips_and_gaps() -> None:
    x = np.cumsum(np.random.default_rng(2).normal(size=(7, 17, 3)), axis=0)
    for n in (1, 2, 3, 5, 7):
        assert smoothing.butterworth(x[:n], 30.0, 6.0).shape == x[:n].shape
    y = x.copy()
    y[2:4] = np.nan
    for method in ("butterworth", "one_euro", "none"):
        out = smoothing.smooth(y, 30.0, method)
        assert np.isfinite(out).all()
    filled = smoothing.fill_nan(y)
    assert np.allclose(filled[2], x[1] + (x[4] - x[1]) / 3)
    # A cutoff at or above Nyquist leaves the signal alone.
    assert np.allclose(smoothing.butterworth(x, 30.0, 20.0), x)
    with pytest.raises(ValueError):
        smoothing.smooth(x, 30.0, "median")
