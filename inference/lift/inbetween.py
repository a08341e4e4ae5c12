"""Learned in-betweens without jitter: low-pass what the model adds to interpolating its own key-frames.

Why: the lifter's frames between key-frames are better on average than interpolating its key-frame outputs
(they recover motion range the straight lines cut), but each window guesses them afresh, so they wobble:
on the val clips the raw output's acceleration error was 1.3-2.5x that of the interpolation. Split the
output into the interpolation through the key-frames and the residual the model adds; the key-frames sample
motion at the key rate, so residual content near the key rate is the key pattern's wobble, not motion. The
residual is low-passed (zero-phase, in the frequency domain): passed below PASS x key rate, gone above
STOP x key rate, never cut below MIN_PASS_HZ. Measured on the val clips (docs/model.md): acceleration error
within 1.0-1.07x of the interpolation, MPJPE and motion range kept.
"""

from __future__ import annotations

import numpy as np

PASS, STOP = 0.4, 0.8  # fractions of the key rate: residual kept below PASS, removed above STOP
MIN_PASS_HZ = 1.0  # sparse key-frames (s_in 20 at 30 fps: 1.5 Hz) keep the slow part of what the model adds


def interpolate_keys(pred: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """pred [T, ...] kept on the key rows (ascending) and linearly interpolated between them, held at the ends."""
    t = np.arange(len(pred))
    hi = np.clip(np.searchsorted(keys, t, side="right"), 1, len(keys) - 1)
    lo = hi - 1
    a = np.clip((t - keys[lo]) / np.maximum(keys[hi] - keys[lo], 1), 0.0, 1.0)
    a = a.reshape(-1, *([1] * (pred.ndim - 1)))
    return (1 - a) * pred[keys[lo]] + a * pred[keys[hi]]


def lowpass(x: np.ndarray, fps: float, pass_hz: float, stop_hz: float) -> np.ndarray:
    """Zero-phase low-pass of x [T, ...] along time: gain 1 below pass_hz, a cos^2 taper to 0 at stop_hz.
    Mirrored at both ends first, so the ends see no wrap-around."""
    n = len(x)
    pad = min(n - 1, int(np.ceil(2.0 * fps / pass_hz)))
    ext = np.concatenate([x[pad:0:-1], x, x[-2 : -pad - 2 : -1]]) if pad > 0 else x
    f = np.fft.rfftfreq(len(ext), 1.0 / fps)
    gain = np.sin(0.5 * np.pi * np.clip((stop_hz - f) / (stop_hz - pass_hz), 0.0, 1.0)) ** 2
    gain = gain.reshape(-1, *([1] * (x.ndim - 1)))
    out = np.fft.irfft(np.fft.rfft(ext, axis=0) * gain, n=len(ext), axis=0)
    return out[pad : pad + n]


def steady_inbetweens(pred: np.ndarray, keys: np.ndarray, fps: float) -> np.ndarray:
    """pred [T, 17, 3] from the lifter, key rows [K] of the clip -> the same with the in-between residual
    low-passed. Unchanged when every frame is a key-frame or there is only one."""
    keys = np.unique(np.asarray(keys, dtype=np.int64))
    if len(keys) < 2 or len(pred) < 4:
        return pred
    gap = float(np.median(np.diff(keys)))
    if gap <= 1.0:
        return pred
    key_rate = fps / gap
    pass_hz = max(PASS * key_rate, MIN_PASS_HZ)
    stop_hz = max(STOP * key_rate, 2.0 * MIN_PASS_HZ)
    if pass_hz >= 0.5 * fps:
        return pred
    base = interpolate_keys(pred.astype(np.float64), keys)
    out = base + lowpass(pred - base, fps, pass_hz, stop_hz)
    return out.astype(pred.dtype)
