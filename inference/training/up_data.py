"""Training data for the learned up estimator (retarget/learned_up.py): the lifter's own output under tilted cameras.

Why the lifter's output and not the mocap: the estimator must learn how the *lifted* body leans with the camera
(the lifter flattens pitch), so each sample is what a capture gives retarget: a TRAIN-split clip segment, random
bone lengths, a virtual camera of known pitch (-40..+20 deg), roll (+-15 deg), field of view 40-80 deg and an
off-centre framing, detector-like 2D (inference/training/noise.py) on key-frames of a random stride, lifted by
the shipped lifter (`inference.uplift`, flip TTA and all). The exact up in camera coordinates is the label.

    .venv/bin/python -m inference.training.up_data --out runs/up_data.npz --clips 3000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ..pose2d.landmarks import canonical_torso_2d
from .cameras import IMAGE_SIZES, Cameras, _offset_rotation, look_at
from .data import load_clips
from .noise import detector_noise, detector_points_3d
from .synth import scale_bones

PITCH_DEG = (-40.0, 20.0)
ROLL_DEG = 15.0
FOV_DEG = (40.0, 80.0)  # across the longer image side
STRIDES = (4, 5, 8, 10, 10, 10, 15, 20)  # key-frame strides a capture uses (10 is the default)


def tilted_camera(world: np.ndarray, rng: np.random.Generator) -> Cameras:
    """One camera of random pitch / roll / fov / azimuth that keeps the segment [T,17,3] (Y up) in view."""
    size = np.array(IMAGE_SIZES[int(rng.integers(len(IMAGE_SIZES)))], dtype=np.float64)
    fov = np.radians(rng.uniform(*FOV_DEG))
    f = 0.5 * size.max() / np.tan(fov / 2)
    p = np.radians(rng.uniform(*PITCH_DEG))
    az = rng.uniform(0, 2 * np.pi)
    fwd = np.array([np.cos(az) * np.cos(p), np.sin(p), np.sin(az) * np.cos(p)])
    pts = world.reshape(-1, 3)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (lo + hi)
    body_h = max(hi[1] - lo[1], 0.5)
    horiz = float(np.linalg.norm(hi[[0, 2]] - lo[[0, 2]]))
    want = rng.uniform(0.35, 0.85)
    dist = max(f * body_h / (want * size[1]), f * (horiz + 0.5) / (0.9 * size[0]), 0.5 * (body_h + horiz) + 1.0)
    eye = centre - dist * fwd
    eye[1] = max(eye[1], lo[1] + 0.15)  # never under the floor: the body moves up in the image instead
    R = look_at(eye[None], (eye + fwd)[None], np.radians(rng.uniform(-ROLL_DEG, ROLL_DEG, 1)))
    cams = Cameras(R, eye[None], np.array([f]), size[None])
    px = cams.project(cams.to_camera(world[None])).reshape(-1, 2) - 0.5 * size
    free_lo = np.minimum(-0.5 * size - px.min(axis=0), 0.0)
    free_hi = np.maximum(0.5 * size - px.max(axis=0), 0.0)
    shift = 0.5 * rng.uniform(free_lo, free_hi)
    Q = _offset_rotation(shift[:1], shift[1:], np.array([f]))
    return Cameras(Q @ R, eye[None], np.array([f]), size[None])


def sample(clip: np.ndarray, rng: np.random.Generator, fps: float, seconds: tuple[float, float]) -> dict:
    """One synthetic capture of a random segment of `clip` [T,17,3]: lifted joints, the true up, and the key-frame
    2D (NaN elsewhere)."""
    from .. import uplift

    n = min(len(clip), int(rng.uniform(*seconds) * fps))
    t0 = int(rng.integers(0, len(clip) - n + 1))
    world = scale_bones(clip[None, t0 : t0 + n], rng)[0]
    cams = tilted_camera(world, rng)
    cam3d = cams.to_camera(world[None])
    px = detector_noise(cams.project(detector_points_3d(cam3d, rng)), rng)
    px = canonical_torso_2d(px)[0].astype(np.float32)
    stride = int(rng.choice(STRIDES))
    key = (np.arange(n) + int(rng.integers(stride))) % stride == 0
    key &= rng.random(n) >= rng.uniform(0.0, 0.15)  # the detector misses some key-frames
    if key.sum() < 2:
        key[[0, -1]] = True
    px[~key] = np.nan
    lifted = uplift(px, (int(cams.size[0, 0]), int(cams.size[0, 1])), fps, device="cpu")
    up = (cams.R[0] @ np.array([0.0, 1.0, 0.0])).astype(np.float32)
    return {"lifted": lifted.astype(np.float32), "up": up, "px": px}


def capture_clips(fps: float) -> tuple[list, np.ndarray]:
    """TRAIN clips of at least 2 s and the probability of drawing each (by length, capped at 30 s so long idle
    clips don't dominate)."""
    clips = [c for c in load_clips(split="train", fps=fps) if len(c.joints) >= fps * 2]
    w = np.array([min(len(c.joints), 30 * fps) for c in clips], float)
    return clips, w / w.sum()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/up_data.npz"))
    ap.add_argument("--clips", type=int, default=3000, help="synthetic captures to make")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", type=float, default=30.0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    clips, p = capture_clips(args.fps)
    lifted, ups, names = [], [], []
    t = time.time()
    for k in range(args.clips):
        c = clips[int(rng.choice(len(clips), p=p))]
        s = sample(c.joints, rng, args.fps, (3.0, 8.0))
        lifted.append(s["lifted"])
        ups.append(s["up"])
        names.append(c.name)
        if k % 200 == 0:
            print(f"{k}/{args.clips} {time.time() - t:.0f}s", flush=True)
    lengths = np.array([len(x) for x in lifted])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, lifted=np.concatenate(lifted), lengths=lengths, up=np.stack(ups), clip=np.array(names))
    print(f"wrote {args.out}: {len(lifted)} captures, {lengths.sum()} frames")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
