"""The landmark-model fit recovers known offsets and noise, and the training noise uses what was measured."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.skeleton import INDEX
from inference.training import landmark_fit as lf
from inference.training import noise
from inference.training.cameras import fixed_cameras
from inference.training.data import load_clips

# MediaPipe 33 landmark behind each measured joint (the inverse of pose2d.landmarks for single sources).
MP_OF = {
    "RHip": 24,
    "RKnee": 26,
    "RAnkle": 28,
    "LHip": 23,
    "LKnee": 25,
    "LAnkle": 27,
    "Neck": 0,
    "LShoulder": 11,
    "LElbow": 13,
    "LWrist": 15,
    "RShoulder": 12,
    "RElbow": 14,
    "RWrist": 16,
}
TRUE = {
    "RHip": (0.02, -0.01, 0.04),
    "LHip": (-0.02, -0.01, 0.04),
    "Neck": (0.0, 0.02, 0.10),
    "RAnkle": (-0.03, 0.0, 0.01),
}


def fake_pairs(folder: Path, mocap_dir: Path, sigma_px: float = 1.0) -> list[Path]:
    """Pairs files like the renderer writes, from mocap seen by random cameras, MediaPipe replaced by the
    known offsets (in each joint's body frame) plus Gaussian pixel noise."""
    rng = np.random.default_rng(0)
    paths = []
    for n, clip in enumerate(load_clips(mocap_dir / "h36m17", fps=30.0, split="val", max_clips=6)):
        if n == 6:
            break
        world = clip.joints[:120:4][None]
        cams = fixed_cameras(world, (1280, 720), rng)
        jc = cams.to_camera(world)[0].astype(np.float64)
        off = np.zeros((17, 3))
        for name, o in TRUE.items():
            off[INDEX[name]] = o
        moved = jc + np.einsum("ja,fjac->fjc", off, lf.frames(jc))
        f = float(cams.f[0])
        size = np.asarray(cams.size[0])
        K = np.array([[f, 0, size[0] / 2], [0, f, size[1] / 2], [0, 0, 1]])

        def project(x: np.ndarray, f: float = f, c: np.ndarray = K[:2, 2]) -> np.ndarray:
            return x[..., :2] / x[..., 2:] * f + c

        img = np.full((len(jc), 33, 5), np.nan)
        img[..., 3:] = 0.99
        mp = project(moved) + rng.standard_normal(moved.shape[:-1] + (2,)) * sigma_px
        for name, k in MP_OF.items():
            img[:, k, :2] = mp[:, INDEX[name]]
        img[:, [7, 8], :2] = mp[:, INDEX["Head"]][:, None]  # ear midpoint = Head
        img[:, :, 2] = 0.0
        found = np.ones(len(jc), bool)
        arrays = {"joints_cam": jc, "joints_2d": project(jc), "K": K}
        for m in lf.MODELS:
            arrays.update({f"mp_{m}_image": img, f"mp_{m}_found": found})
        path = folder / f"clip{n}.npz"
        np.savez(path, **arrays)
        paths.append(path)
    return paths


def test_fit_recovers_known_offsets(tmp_path: Path, mocap_dir: Path) -> None:
    paths = fake_pairs(tmp_path, mocap_dir)
    model = lf.measure(lf.load(paths, "full"))
    for name in lf.MEASURED:
        want = np.asarray(TRUE.get(name, (0.0, 0.0, 0.0)))
        got = np.asarray(model["joints"][name]["offset_m"])
        assert np.abs(got - want).max() < 0.01, (name, got, want)  # within 1 cm, depth axis included
    assert model["miss_rate"] == 0.0 and model["swap_rate"] < 0.02
    sig = np.median([m["noise_rel_sigma"] for m in model["joints"].values()])
    assert 0.0 < sig < 0.01  # 1 px on a few-hundred-px body


def test_training_noise_uses_the_shipped_measurement() -> None:
    lm = noise.landmark_model("full")
    assert lm.offset.shape == (17, 3) and np.abs(lm.offset).max() < 0.2
    assert 0.0 < lm.swap_rate < 0.2 and 0.0 <= lm.miss_rate < 0.5
    assert (lm.spread <= noise.MAX_SPREAD_M + 1e-9).all()
    cam = np.zeros((2, 3, 17, 3), np.float32)
    cam[..., 2] = 3.0
    cam[..., INDEX["Thorax"], 1] = -0.5  # up is -y in camera coordinates
    cam[..., INDEX["Head"], 1] = -0.8
    cam[..., INDEX["LHip"], 0] = 0.1
    cam[..., INDEX["RHip"], 0] = -0.1
    mean = noise.detector_points_3d(cam, None)
    k = INDEX["Neck"]
    # the nose moves forward of the neck joint: towards the camera for a body facing it (-z)
    assert mean[0, 0, k, 2] < cam[0, 0, k, 2] - 0.05
    drawn = noise.detector_points_3d(cam, np.random.default_rng(1))
    assert not np.allclose(drawn, mean) and np.abs(drawn - mean).max() < 4 * noise.MAX_SPREAD_M


@pytest.mark.parametrize("detector", ["full", "lite"])
def test_noise_is_finite_and_sized_like_the_measurement(detector: str) -> None:
    rng = np.random.default_rng(0)
    px = np.tile(np.linspace([500, 200], [520, 700], 17)[None, None], (64, 30, 1, 1)).astype(np.float32)
    out = noise.detector_noise(px, rng, detector)
    d = np.linalg.norm(out - px, axis=-1) / 500.0
    lm = noise.landmark_model(detector)
    assert np.isfinite(out).all()
    assert 0.5 * np.median(lm.sigma) < np.median(d) < 3.0 * np.median(lm.sigma)
