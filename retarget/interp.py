"""Shape-preserving (PCHIP) interpolation in numpy, as scipy's PchipInterpolator computes it.

Used to fill the root between key-frames: unlike a spline it never overshoots the key-frame values, so a
pelvis that stops does not swing past where it stopped. numpy only (Blender bundles no scipy);
tests/test_filters.py compares it with scipy where scipy is installed.
"""

from __future__ import annotations

import numpy as np


def _slopes(h: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson derivatives [N, D] at the knots from the spacings h [N-1] and secants m [N-1, D]."""
    n = len(h) + 1
    d = np.zeros((n, m.shape[1]))
    if n == 2:
        d[:] = m[0]
        return d
    w1 = (2 * h[1:] + h[:-1])[:, None]
    w2 = (h[1:] + 2 * h[:-1])[:, None]
    same = (np.sign(m[:-1]) * np.sign(m[1:])) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / m[:-1] + w2 / m[1:])
    d[1:-1] = np.where(same, harmonic, 0.0)
    for end, (h0, h1, m0, m1) in ((0, (h[0], h[1], m[0], m[1])), (-1, (h[-1], h[-2], m[-1], m[-2]))):
        e = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)  # one-sided three-point estimate
        e = np.where(np.sign(e) != np.sign(m0), 0.0, e)
        e = np.where((np.sign(m0) != np.sign(m1)) & (np.abs(e) > 3 * np.abs(m0)), 3 * m0, e)
        d[end] = e
    return d


def pchip(t: np.ndarray, v: np.ndarray, tq: np.ndarray) -> np.ndarray:
    """Values [Q, D] at query times tq (inside [t[0], t[-1]]; NaN outside) of the PCHIP through strictly
    increasing knots t [N >= 2] with values v [N, D]."""
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64).reshape(len(t), -1)
    tq = np.asarray(tq, dtype=np.float64)
    if len(t) < 2 or np.any(np.diff(t) <= 0):
        raise ValueError("pchip needs at least 2 strictly increasing knots")
    h = np.diff(t)
    m = np.diff(v, axis=0) / h[:, None]
    d = _slopes(h, m)
    k = np.clip(np.searchsorted(t, tq, side="right") - 1, 0, len(t) - 2)
    s = ((tq - t[k]) / h[k])[:, None]
    hk = h[k][:, None]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    out = h00 * v[k] + h10 * hk * d[k] + h01 * v[k + 1] + h11 * hk * d[k + 1]
    out[(tq < t[0]) | (tq > t[-1])] = np.nan
    return out
