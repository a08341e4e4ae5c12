"""Small vectorised rotation helpers. Quaternions are (w, x, y, z), Blender's order, shape [..., 4]."""

from __future__ import annotations

import numpy as np

_EPS = 1e-9


def normalize(v: np.ndarray, axis: int = -1) -> np.ndarray:
    n = np.linalg.norm(v, axis=axis, keepdims=True)
    return v / np.maximum(n, _EPS)


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a * b (apply b first, then a)."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def to_matrix(q: np.ndarray) -> np.ndarray:
    q = normalize(np.asarray(q, dtype=np.float64))
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def from_matrix(m: np.ndarray) -> np.ndarray:
    """Rotation matrices [..., 3, 3] -> unit quaternions (Shepperd's method: stable for every angle)."""
    m = np.asarray(m, dtype=np.float64)
    shp = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    tr = np.trace(m, axis1=1, axis2=2)
    cand = np.stack([tr, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)
    k = np.argmax(cand, axis=1)
    q = np.empty((m.shape[0], 4))
    for case in range(4):
        s = k == case
        if not np.any(s):
            continue
        r = m[s]
        if case == 0:
            t = np.sqrt(np.maximum(1 + tr[s], _EPS)) * 2
            q[s] = np.stack(
                [0.25 * t, (r[:, 2, 1] - r[:, 1, 2]) / t, (r[:, 0, 2] - r[:, 2, 0]) / t, (r[:, 1, 0] - r[:, 0, 1]) / t],
                axis=1,
            )
        else:
            i = case - 1
            j, kk = (i + 1) % 3, (i + 2) % 3
            t = np.sqrt(np.maximum(1 + r[:, i, i] - r[:, j, j] - r[:, kk, kk], _EPS)) * 2
            out = np.empty((r.shape[0], 4))
            out[:, 0] = (r[:, kk, j] - r[:, j, kk]) / t
            out[:, 1 + i] = 0.25 * t
            out[:, 1 + j] = (r[:, j, i] + r[:, i, j]) / t
            out[:, 1 + kk] = (r[:, kk, i] + r[:, i, kk]) / t
            q[s] = out
    q = normalize(q)
    q[q[:, 0] < 0] *= -1
    return q.reshape(shp + (4,))


def from_axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    axis = normalize(np.asarray(axis, dtype=np.float64))
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Shortest-arc rotation taking direction u to direction v ([..., 3] each)."""
    u, v = normalize(u), normalize(v)
    d = np.sum(u * v, axis=-1, keepdims=True)
    c = np.cross(u, v)
    q = np.concatenate([1.0 + d, c], axis=-1)
    opposite = d[..., 0] < -1 + 1e-9
    if np.any(opposite):  # 180 degrees: any axis perpendicular to u
        uo = u[opposite]
        alt = np.where(np.abs(uo[:, :1]) < 0.9, np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
        q[opposite] = np.concatenate([np.zeros((uo.shape[0], 1)), normalize(np.cross(uo, alt))], axis=-1)
    return normalize(q)


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...j->...i", to_matrix(q), v)


def make_continuous(q: np.ndarray) -> np.ndarray:
    """Flip signs along axis 0 (time) so consecutive quaternions have a non-negative dot product.

    q and -q are the same rotation, but Blender interpolates the four channels separately: a sign flip
    between two keys makes the bone spin the long way round.
    """
    q = np.array(q, dtype=np.float64, copy=True)
    if q.shape[0] < 2:
        return q
    d = np.sum(q[1:] * q[:-1], axis=-1)
    flips = np.cumsum(d < 0, axis=0) % 2
    q[1:][flips.astype(bool)] *= -1
    return q


def twist_angle(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Signed angle of the twist part of q about the unit axis (swing-twist decomposition)."""
    return 2.0 * np.arctan2(np.sum(q[..., 1:] * axis, axis=-1), q[..., 0])


def twist_angle_wrapped(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """twist_angle in [-pi, pi] whatever the sign of q (q and -q are the same rotation)."""
    q = np.where(q[..., :1] < 0, -q, q)
    return twist_angle(q, axis)


def angle_between(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Rotation angle (rad) of q2 relative to q1, sign-independent."""
    d = np.abs(np.sum(normalize(q1) * normalize(q2), axis=-1))
    return 2.0 * np.arccos(np.clip(d, 0.0, 1.0))


_EULER_AXES = {"X": 0, "Y": 1, "Z": 2}


def to_euler(q: np.ndarray, order: str = "XYZ") -> np.ndarray:
    """[T, 4] quaternions -> [T, 3] Blender Euler angles (x, y, z) for `order`, unwrapped over time.

    Blender's order 'XYZ' means X is applied first: R = R_z @ R_y @ R_x (and so on for the others).
    """
    i, j, k = (_EULER_AXES[a] for a in order)
    even = (j - i) % 3 == 1
    sgn = 1.0 if even else -1.0
    m = to_matrix(np.asarray(q, dtype=np.float64))
    b = np.arcsin(np.clip(-sgn * m[:, k, i], -1.0, 1.0))
    a = np.arctan2(sgn * m[:, k, j], m[:, k, k])
    c = np.arctan2(sgn * m[:, j, i], m[:, i, i])
    out = np.empty((len(m), 3))
    out[:, i], out[:, j], out[:, k] = a, b, c
    return np.unwrap(out, axis=0)
