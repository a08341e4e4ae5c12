"""Zero-phase Butterworth low-pass in numpy: the design and forward-backward filtering we used scipy for.

Blender ships numpy and no scipy, and scipy is a third of an extension zip, for two calls. This module
reproduces `scipy.signal.butter(order, wn, output="sos")` and `sosfiltfilt(sos, x, axis=0, padlen=n)`
(odd extension at both ends, each pass started in the steady state of its first sample), to ~1e-12 of
scipy's output (tests/test_filters.py compares them where scipy is installed).
"""

from __future__ import annotations

import numpy as np


def butter_lowpass_sos(order: int, wn: float) -> np.ndarray:
    """Digital Butterworth low-pass, cutoff `wn` as a fraction of Nyquist (0 < wn < 1), as second-order
    sections [n_sections, 6] (b0 b1 b2 a0 a1 a2), poles ordered as scipy orders them (closest to the unit
    circle last), unit gain at DC."""
    if order < 1 or not 0.0 < wn < 1.0:
        raise ValueError(f"need order >= 1 and 0 < wn < 1, got order={order}, wn={wn}")
    k = np.arange(-order + 1, order, 2)
    poles_analog = -np.exp(1j * np.pi * k / (2 * order))  # unit-cutoff prototype, left half plane
    warped = 4.0 * np.tan(np.pi * wn / 2.0)  # pre-warped cutoff, bilinear transform with fs = 2
    p = (4.0 + poles_analog * warped) / (4.0 - poles_analog * warped)  # s -> z, zeros all at z = -1
    p = p[np.argsort(np.abs(p), kind="stable")]  # the poles closest to the unit circle go last (as scipy)
    sections: list[np.ndarray] = []
    used = np.zeros(len(p), bool)
    for i in range(len(p)):
        if used[i]:
            continue
        used[i] = True
        if abs(p[i].imag) < 1e-12:  # Butterworth's one real pole (odd orders): a first-order section
            a = np.array([1.0, -p[i].real, 0.0])
            b = np.array([1.0, 1.0, 0.0])
        else:
            j = next(q for q in range(len(p)) if not used[q] and abs(p[q] - p[i].conjugate()) < 1e-9)
            used[j] = True
            a = np.real(np.poly([p[i], p[j]]))
            b = np.array([1.0, 2.0, 1.0])
        sections.append(np.concatenate([b * (a.sum() / b.sum()), a]))  # unit DC gain per section
    return np.array(sections)


def _section_zi(sos: np.ndarray) -> np.ndarray:
    """Steady-state delays [n_sections, 2] of each section for a unit step (scipy's sosfilt_zi)."""
    zi = np.zeros((len(sos), 2))
    scale = 1.0
    for s, (b0, b1, b2, _a0, a1, a2) in enumerate(sos):
        # Transposed direct form II: y = b0 x + z0; z0' = b1 x - a1 y + z1; z1' = b2 x - a2 y. For x = y/g
        # constant at gain g = sum(b)/sum(a), solve z = A z + B.
        m = np.array([[1.0 + a1, -1.0], [a2, 1.0]])
        rhs = np.array([b1 - a1 * b0, b2 - a2 * b0])
        zi[s] = scale * np.linalg.solve(m, rhs)
        scale *= (b0 + b1 + b2) / (1.0 + a1 + a2)
    return zi


def _sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> np.ndarray:
    """Filter x [T, C] through the sections, delays zi [n_sections, 2, C]."""
    y = np.array(x, dtype=np.float64, copy=True)
    for s, (b0, b1, b2, _a0, a1, a2) in enumerate(sos):
        z0, z1 = zi[s, 0].copy(), zi[s, 1].copy()
        out = np.empty_like(y)
        for t in range(len(y)):
            xt = y[t]
            yt = b0 * xt + z0
            z0 = b1 * xt - a1 * yt + z1
            z1 = b2 * xt - a2 * yt
            out[t] = yt
        y = out
    return y


def sosfiltfilt(sos: np.ndarray, x: np.ndarray, padlen: int) -> np.ndarray:
    """Forward-backward filtering of x [T, ...] along axis 0 with odd-extension padding of `padlen`
    samples (padlen < T), so the output has no phase lag and starts and ends without a transient."""
    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    flat = x.reshape(shape[0], -1)
    if not 0 <= padlen < shape[0]:
        raise ValueError(f"padlen must be in [0, {shape[0] - 1}], got {padlen}")
    if padlen:
        head = 2 * flat[0] - flat[padlen:0:-1]
        tail = 2 * flat[-1] - flat[-2 : -padlen - 2 : -1]
        ext = np.concatenate([head, flat, tail])
    else:
        ext = flat
    zi = _section_zi(sos)[:, :, None]
    fwd = _sosfilt(sos, ext, zi * ext[0])
    bwd = _sosfilt(sos, fwd[::-1], zi * fwd[-1])[::-1]
    out = bwd[padlen : len(bwd) - padlen] if padlen else bwd
    return out.reshape(shape)
