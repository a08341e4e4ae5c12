"""Virtual pinhole cameras for turning world mocap into the 2D a phone or camera would see.

World: metres, +Y up. Camera: x right, y down, z forward (the contract's camera coordinates).
Per window: a random image size (landscape, portrait, square), 35 mm-equivalent focal length 16-100 mm
(wide to tele), camera height 0.3-3.5 m (a phone held high, a shelf, a balcony), any azimuth, distance chosen
so the person fills 35-90 % of the image height over the whole window, and the person placed off-centre
within the margins with a roll of up to 8 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMAGE_SIZES = ((1920, 1080), (1280, 720), (1080, 1920), (720, 1280), (1080, 1080), (640, 480), (576, 576), (1768, 994))


@dataclass
class Cameras:
    """A batch of cameras: R [B,3,3] world->camera, C [B,3] centres, f [B] pixels, size [B,2] (w, h)."""

    R: np.ndarray
    C: np.ndarray
    f: np.ndarray
    size: np.ndarray

    def to_camera(self, x: np.ndarray) -> np.ndarray:
        """World points [B, ..., 3] -> camera coordinates [B, ..., 3]."""
        b = x.shape[0]
        flat = x.reshape(b, -1, 3) - self.C[:, None, :]
        return np.einsum("bij,bnj->bni", self.R, flat).reshape(x.shape).astype(np.float32)

    def project(self, xc: np.ndarray) -> np.ndarray:
        """Camera-space points [B, ..., 3] -> pixels [B, ..., 2] (principal point at the image centre)."""
        shape = (xc.shape[0],) + (1,) * (xc.ndim - 2)
        z = np.maximum(xc[..., 2], 0.05)
        f = self.f.reshape(shape)
        u = f * xc[..., 0] / z + 0.5 * self.size[:, 0].reshape(shape)
        v = f * xc[..., 1] / z + 0.5 * self.size[:, 1].reshape(shape)
        return np.stack([u, v], axis=-1).astype(np.float32)


def look_at(eye: np.ndarray, target: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """World->camera rotations [B,3,3] for cameras at eye looking at target, rolled about the view axis."""
    fwd = target - eye
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    up = np.broadcast_to(np.array([0.0, 1.0, 0.0]), fwd.shape)
    right = np.cross(fwd, up)
    right /= np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-9)
    down = np.cross(fwd, right)
    R = np.stack([right, down, fwd], axis=1)
    c, s = np.cos(roll), np.sin(roll)
    z, o = np.zeros_like(c), np.ones_like(c)
    Rz = np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], 1)
    return Rz @ R


def _offset_rotation(du: np.ndarray, dv: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Camera-frame rotation Q [B,3,3] moving the optical axis' target to pixel offset (du, dv)."""
    th = np.arctan(du / f)
    b = np.arctan(dv / f * np.cos(th))
    cb, sb, ct, st = np.cos(b), np.sin(b), np.cos(th), np.sin(th)
    z, o = np.zeros_like(cb), np.ones_like(cb)
    rx = np.stack([np.stack([o, z, z], -1), np.stack([z, cb, sb], -1), np.stack([z, -sb, cb], -1)], 1)
    ry = np.stack([np.stack([ct, z, st], -1), np.stack([z, o, z], -1), np.stack([-st, z, ct], -1)], 1)
    return ry @ rx


def random_cameras(
    world: np.ndarray,
    rng: np.random.Generator,
    sizes=IMAGE_SIZES,
    focal_mm: tuple[float, float] = (16.0, 100.0),
    height: tuple[float, float] = (0.3, 3.5),
    fill: tuple[float, float] = (0.35, 0.9),
    offcentre: float = 0.8,
    roll_deg: float = 8.0,
) -> Cameras:
    """One random camera per window. world: [B, N, 17, 3] (metres, +Y up), the whole window stays in view."""
    b = world.shape[0]
    size = np.array(sizes, dtype=np.float64)[rng.integers(len(sizes), size=b)]
    f = np.exp(rng.uniform(np.log(focal_mm[0]), np.log(focal_mm[1]), b)) / 36.0 * size.max(axis=1)
    flat = world.reshape(b, -1, 3)
    lo, hi = flat.min(axis=1), flat.max(axis=1)
    centre = 0.5 * (lo + hi)
    body_h = np.maximum(hi[:, 1] - lo[:, 1], 0.5)
    horiz = np.linalg.norm(hi[:, [0, 2]] - lo[:, [0, 2]], axis=1)
    radius = 0.5 * np.sqrt(body_h**2 + horiz**2)
    want = rng.uniform(*fill, b)
    dist = np.maximum.reduce([f * body_h / (want * size[:, 1]), f * (horiz + 0.5) / (0.9 * size[:, 0]), radius + 1.0])
    az = rng.uniform(0, 2 * np.pi, b)
    cam_y = lo[:, 1] + rng.uniform(*height, b)
    eye = np.stack([centre[:, 0] + dist * np.cos(az), cam_y, centre[:, 2] + dist * np.sin(az)], axis=1)
    R = look_at(eye, centre, np.deg2rad(rng.uniform(-roll_deg, roll_deg, b)))
    cams = Cameras(R, eye, f, size)
    # Place the person off-centre within the free margins (rotate the camera, don't crop).
    px = cams.project(cams.to_camera(world)).reshape(b, -1, 2)
    half = 0.5 * size
    lo_px, hi_px = px.min(axis=1) - half, px.max(axis=1) - half
    free_lo = np.minimum(-half - lo_px, 0.0)  # negative room to move left/up
    free_hi = np.maximum(half - hi_px, 0.0)
    shift = offcentre * rng.uniform(free_lo, free_hi)
    Q = _offset_rotation(shift[:, 0], shift[:, 1], f)
    return Cameras(Q @ R, eye, f, size)


def fixed_cameras(world: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> Cameras:
    """Evaluation cameras: fixed image size, otherwise random as in training (seeded rng)."""
    return random_cameras(world, rng, sizes=(size,))
