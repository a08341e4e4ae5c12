"""Root (pelvis) trajectory from monocular data.

With 2D key-frames (the usual case) each key-frame's pelvis position in camera coordinates is the
translation t that makes the pelvis-relative 3D joints X_j project onto their 2D points (u_j, v_j) through
a pinhole with the assumed focal length f and the principal point at the image centre c:
    f (X_j + t_x) - (u_j - c_x)(Z_j + t_z) = 0,   f (Y_j + t_y) - (v_j - c_y)(Z_j + t_z) = 0,
linear in t, solved by least squares over the visible joints (re-weighted by 1/depth so residuals are
pixels, plus a Huber weight against a wrong joint). Key-frame roots are interpolated shape-preservingly
(PCHIP) to every frame.

Scale: the 3D joints have a human metric size, so depth follows from how large the body looks:
t_z scales with the assumed focal length (a wrong field of view stretches depth motion), while sideways
and vertical motion, t_x ~ (u - c_x) t_z / f, barely depend on it. Depth is also the noisiest axis.

Without 2D, `odometry_root` walks the pelvis with the planted feet (a foot in contact does not move, so
the pelvis moves by minus the foot's motion relative to the pelvis): no flight phases, drift grows slowly.
"""

from __future__ import annotations

import numpy as np

from .interp import pchip

DEFAULT_FOV_DEG = 60.0


def focal_from_fov(image_size: tuple[float, float], fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in pixels for a field of view across the image's longer side (any orientation)."""
    if not 1.0 < fov_deg < 179.0:
        raise ValueError(f"field of view must be between 1 and 179 degrees, got {fov_deg}")
    return 0.5 * max(image_size) / np.tan(np.radians(fov_deg) / 2)


def solve_root(
    joints_rel: np.ndarray,
    points2d: np.ndarray,
    image_size: tuple[float, float],
    focal: float,
    min_joints: int = 6,
    huber_px: float = 8.0,
) -> np.ndarray:
    """Pelvis translation [T,3] in camera coordinates per frame; NaN rows where 2D is missing or too sparse."""
    x = np.asarray(joints_rel, dtype=np.float64)
    p = np.asarray(points2d, dtype=np.float64)
    T = x.shape[0]
    c = np.array([image_size[0], image_size[1]], dtype=np.float64) / 2
    out = np.full((T, 3), np.nan)
    uv = p - c  # [T,17,2]
    valid = np.isfinite(uv).all(-1) & np.isfinite(x).all(-1)
    frames = np.flatnonzero(valid.sum(1) >= min_joints)
    if frames.size == 0:
        return out
    X, UV, V = x[frames], np.where(valid[frames, :, None], uv[frames], 0.0), valid[frames].astype(float)
    # Rows per joint and image axis: [f, 0, -u] t = u Z - f X  and  [0, f, -v] t = v Z - f Y.
    n = len(frames)
    A = np.zeros((n, 17, 2, 3))
    A[:, :, 0, 0] = focal
    A[:, :, 1, 1] = focal
    A[:, :, :, 2] = -UV
    b = UV * X[:, :, 2:3] - focal * X[:, :, :2]
    w = V.copy()
    t = np.zeros((n, 3))
    for _ in range(4):
        W = np.repeat(w[:, :, None], 2, axis=2)
        Aw = A * W[..., None]
        AtA = np.einsum("njki,njkl->nil", Aw, A) + 1e-9 * np.eye(3)
        Atb = np.einsum("njki,njk->ni", Aw, b)
        t = np.linalg.solve(AtA, Atb[..., None])[..., 0]
        depth = np.maximum(X[:, :, 2] + t[:, None, 2], 0.1)
        resid_px = np.linalg.norm(np.einsum("njki,ni->njk", A, t) - b, axis=-1) / depth
        huber = np.minimum(1.0, huber_px / np.maximum(resid_px, 1e-9))
        w = V * huber / depth**2  # IRLS weights on squared residuals: pixels, Huber-capped
    out[frames] = t
    return out


def interpolate_keys(values: np.ndarray) -> np.ndarray:
    """Fill NaN rows [T,D] by PCHIP through the finite rows (no overshoot), holding the ends."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v).all(axis=1)
    if ok.sum() == 0:
        raise ValueError("no frame has a root estimate")
    if ok.sum() == 1:
        return np.repeat(v[ok], len(v), axis=0)
    t = np.flatnonzero(ok)
    out = pchip(t, v[ok], np.arange(len(v)))
    out[: t[0]] = v[t[0]]
    out[t[-1] + 1 :] = v[t[-1]]
    return out


def odometry_root(
    joints_rel_world: np.ndarray, contacts: np.ndarray, feet: tuple[int, int], height_scale: float = 0.02
) -> np.ndarray:
    """Horizontal pelvis path [T,2] (world XY, starting at 0) from planted feet (contacts [T,2] bool).

    Frame-to-frame pelvis motion = minus the relative motion of the planted foot; when both count as
    planted the lower one dominates (weight exp(-height above the lower / height_scale)), since a low
    swing foot also passes the height test. With no foot planted the last velocity is kept (a short
    flight continues in a straight line).
    """
    rel = np.asarray(joints_rel_world, dtype=np.float64)[:, list(feet)]  # [T,2,3]
    c = np.asarray(contacts, dtype=bool)
    z = rel[..., 2]
    w = c * np.exp(-(z - z.min(axis=1, keepdims=True)) / height_scale)
    T = rel.shape[0]
    path = np.zeros((T, 2))
    vel = np.zeros(2)
    for t in range(1, T):
        ww = np.minimum(w[t], w[t - 1])
        if ww.sum() > 1e-6:
            vel = -(ww[:, None] * (rel[t, :, :2] - rel[t - 1, :, :2])).sum(axis=0) / ww.sum()
        path[t] = path[t - 1] + vel
    return path
