"""Temporal smoothing of joint tracks: zero-phase Butterworth (offline default) and the One-Euro filter.

Both work on any array [T, ...] along axis 0 (time) and are NaN-safe: gaps are filled by linear
interpolation in time (edges held) before filtering, so one lost frame does not poison a whole track.
"""

from __future__ import annotations

import numpy as np

from .filters import butter_lowpass_sos, sosfiltfilt


def fill_nan(x: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaNs along axis 0 per channel; all-NaN channels become 0."""
    x = np.array(x, dtype=np.float64, copy=True)
    flat = x.reshape(x.shape[0], -1)
    t = np.arange(x.shape[0])
    for c in np.flatnonzero(~np.isfinite(flat).all(axis=0)):
        ok = np.isfinite(flat[:, c])
        flat[:, c] = np.interp(t, t[ok], flat[ok, c]) if ok.any() else 0.0
    return flat.reshape(x.shape)


def butterworth(x: np.ndarray, fps: float, cutoff_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase low-pass (forward-backward Butterworth, so no lag; effective order doubles).

    A cutoff at or above ~Nyquist returns the (NaN-filled) input. Short clips use the longest padding
    they allow; clips under 4 frames are returned unfiltered.
    """
    if fps <= 0 or cutoff_hz <= 0:
        raise ValueError(f"fps and cutoff_hz must be positive (got fps={fps}, cutoff_hz={cutoff_hz})")
    x = fill_nan(x)
    wn = cutoff_hz / (0.5 * fps)
    if wn >= 0.99 or x.shape[0] < 4:
        return x
    sos = butter_lowpass_sos(order, wn)
    default_pad = 3 * (2 * len(sos) + 1)  # scipy's default padding for sosfiltfilt
    return sosfiltfilt(sos, x, padlen=min(default_pad, x.shape[0] - 1))


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    tau = 1.0 / (2 * np.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


def one_euro(
    x: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.5, d_cutoff: float = 1.0
) -> np.ndarray:
    """One-Euro filter (Casiez et al., CHI 2012): an adaptive low-pass whose cutoff rises with speed,
    min_cutoff + beta * |dx/dt| (Hz, with x in its own units per second), so slow motion is steady and fast
    motion keeps up. Causal (some lag on fast motion), per channel; usable live."""
    if fps <= 0:
        raise ValueError(f"fps must be positive (got {fps})")
    x = fill_nan(x)
    dt = 1.0 / fps
    out = np.empty_like(x)
    out[0] = x[0]
    dx = np.zeros_like(x[0])
    a_d = _alpha(d_cutoff, dt)
    for t in range(1, x.shape[0]):
        dx = a_d * (x[t] - out[t - 1]) / dt + (1 - a_d) * dx
        a = _alpha(min_cutoff + beta * np.abs(dx), dt)
        out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def smooth(
    x: np.ndarray,
    fps: float,
    method: str = "butterworth",
    cutoff_hz: float = 6.0,
    min_cutoff: float = 1.0,
    beta: float = 0.5,
    d_cutoff: float = 1.0,
) -> np.ndarray:
    """Dispatch by name: "butterworth" | "one_euro" | "none" (NaN-filled copy)."""
    if method == "butterworth":
        return butterworth(x, fps, cutoff_hz)
    if method == "one_euro":
        return one_euro(x, fps, min_cutoff, beta, d_cutoff)
    if method == "none":
        return fill_nan(x)
    raise ValueError(f"unknown smoothing {method!r}: use 'butterworth', 'one_euro' or 'none'")
