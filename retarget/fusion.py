"""Fusing direction cues on the sphere (gravity.py's cues: name, unit up, 3x3 tangent covariance).

Why a module of its own: the arithmetic of joining cues is one decision, apart from what each cue measures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import quat

if TYPE_CHECKING:  # pragma: no cover
    from .gravity import Cue


def fuse(cues: list[Cue], start: np.ndarray, iters: int = 4) -> tuple[np.ndarray, np.ndarray, list[float], float]:
    """Information-weighted mean of the cues on the sphere (tangent plane at the estimate), each cue's
    weight cut by its squared Mahalanobis distance beyond 3 sigma (cues that disagree lose their say).
    Returns (up, 3x3 covariance, weight factor per cue, robust misfit: sum of capped squared distances)."""
    up = quat.normalize(start)
    scale = [1.0] * len(cues)
    cov = np.eye(3)
    d2: list[float] = []
    for _ in range(iters):
        b = np.linalg.svd(np.eye(3) - np.outer(up, up))[0][:, :2]  # tangent basis [3,2]
        info = np.zeros((2, 2))
        vec = np.zeros(2)
        mats = []
        for c, s in zip(cues, scale):
            x = b.T @ c.up / max(c.up @ up, 0.5)  # a cue more than 60 deg away is pulled in (and down-weighted)
            w = np.linalg.pinv(b.T @ c.cov @ b + 1e-10 * np.eye(2))
            mats.append((x, w))
            info += w * s
            vec += s * (w @ x)
        cov2 = np.linalg.pinv(info)
        x = cov2 @ vec
        up = quat.normalize(up + b @ x)
        cov = b @ cov2 @ b.T
        d2 = [float((xi - x) @ wi @ (xi - x)) for xi, wi in mats]
        scale = [min(1.0, 9.0 / max(d, 1e-12)) for d in d2]
    return up, cov, scale, float(sum(min(d, 9.0) for d in d2))


ROBUST_GROUND = ("floor",)  # ground cues that lose weight when they disagree (the path does not: see gravity.py)


def with_ground(
    up: np.ndarray, cov: np.ndarray, ground: list[Cue], log_k: float, focal_sigma: float
) -> tuple[np.ndarray, np.ndarray, float, list[float]]:
    """Join the body's up (mean, covariance) with ground cues (floor, path) measured with the root's depth
    scaled by exp(log_k), solving for up and a correction of log_k together (linearised: stretching depth by
    (1 + e) turns a ground normal n by -n_z (z - n_z n) e) under the prior log_k ~ N(0, focal_sigma).
    Returns (up, covariance, log_k, weight factor per ground cue)."""
    b = np.linalg.svd(np.eye(3) - np.outer(up, up))[0][:, :2]
    wb = np.linalg.pinv(b.T @ cov @ b + 1e-10 * np.eye(2))
    terms = []
    for g in ground:
        n = g.up
        jac = -b.T @ (n[2] * (np.array([0.0, 0.0, 1.0]) - n[2] * n))
        xf = b.T @ n / max(n @ up, 0.5)
        wf = np.linalg.pinv(b.T @ g.cov @ b + 1e-10 * np.eye(2))
        terms.append((jac, xf, wf, g.name in ROBUST_GROUND))
    scales = [1.0] * len(terms)
    for _ in range(3):  # a robust ground cue loses weight if it still disagrees beyond 3 sigma
        a = np.zeros((3, 3))
        rhs = np.zeros(3)
        a[:2, :2] = wb
        a[2, 2] = 1.0 / focal_sigma**2
        rhs[2] = -log_k / focal_sigma**2
        for (jac, xf, wf, _), s in zip(terms, scales):  # residual: x - xf - jac * dl
            a[:2, :2] += s * wf
            a[:2, 2] -= s * wf @ jac
            a[2, :2] -= s * wf @ jac
            a[2, 2] += s * jac @ wf @ jac
            rhs[:2] += s * wf @ xf
            rhs[2] -= s * jac @ wf @ xf
        sol = np.linalg.solve(a + 1e-12 * np.eye(3), rhs)
        for i, (jac, xf, wf, robust) in enumerate(terms):
            r = sol[:2] - xf - jac * sol[2]
            scales[i] = min(1.0, 9.0 / max(float(r @ wf @ r), 1e-12)) if robust else 1.0
    cov2 = np.linalg.inv(a + 1e-12 * np.eye(3))[:2, :2]
    return quat.normalize(up + b @ sol[:2]), b @ cov2 @ b.T, log_k + float(sol[2]), scales
