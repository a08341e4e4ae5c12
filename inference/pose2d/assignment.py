"""Minimum-cost assignment (the Hungarian method with potentials) in numpy.

The people tracker matches tracks to detections with it. It stands in for scipy's
linear_sum_assignment, which is the only scipy call of capture: Blender bundles numpy, and an extension
zip without scipy is a third smaller. Matrices here are a few tracks by a few people; O(n^2 m) is plenty.
"""

from __future__ import annotations

import numpy as np


def _square_side(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Assignment for n rows <= m columns: every row gets a distinct column, total cost minimal."""
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)  # owner[j]: 1-based row holding column j (0: free); column 0 is virtual
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        best = np.full(m + 1, np.inf)
        prev = np.zeros(m + 1, np.int64)
        done = np.zeros(m + 1, bool)
        while owner[j0] != 0:
            done[j0] = True
            i0 = owner[j0]
            free = ~done[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < best[1:])
            best[1:][better] = reduced[better]
            prev[1:][better] = j0
            cand = np.where(free, best[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[owner[done]] += delta
            v[done] -= delta
            best[1:][free] -= delta
            j0 = j1
        while j0:  # flip the augmenting path
            j1 = prev[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.flatnonzero(owner[1:]) if n else np.zeros(0, np.int64)
    rows = owner[1:][cols] - 1
    order = np.argsort(rows)
    return rows[order], cols[order]


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of a minimum-cost matching of a finite [n, m] cost matrix: min(n, m) pairs, rows
    ascending (the same contract as scipy.optimize.linear_sum_assignment)."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or not np.isfinite(c).all():
        raise ValueError("cost must be a finite 2D matrix")
    if c.shape[0] <= c.shape[1]:
        return _square_side(c)
    cols, rows = _square_side(c.T)
    order = np.argsort(rows)
    return rows[order], cols[order]
