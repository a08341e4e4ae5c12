"""Fine-tuning windows from real-detector pairs (inference/training/rendered_batch.py) on a pairs fixture.

The fixture's numbers encode frame indices: every MediaPipe landmark of key-frame t sits at y = t px, and
the exact joints of frame t have the Head t / 100 m deeper than the pelvis, so a window tells which frames it
was built from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inference.lift.model import get_config, normalize_2d
from inference.lift.poses import mirror_world, world_features
from inference.training import pairs, train
from inference.training.rendered_batch import MAX_SPACING, load_rendered, rendered_batch

STRIDE, KEYS, MISSED = 5, 14, 6  # key-frame 6 (frame 30) was missed by the detector
SIZE = (640, 360)


def _write_clip(folder: Path, name: str, split: str = "train") -> None:
    t_dense = (KEYS - 1) * STRIDE + 1
    key_frames = 100 + STRIDE * np.arange(KEYS)
    rng = np.random.default_rng(0)
    gt = rng.normal(0, 0.2, (t_dense, 17, 3)).astype(np.float32)
    gt[:, 10, 2] = gt[:, 0, 2] + np.arange(t_dense) / 100.0  # Head: its own mirror image under flips
    arrays: dict[str, object] = {
        "dense_frames": np.arange(key_frames[0], key_frames[-1] + 1),
        "key_frames": key_frames,
        "dense_joints_cam": gt,
        "image_size": np.array(SIZE),
        "split": split,
    }
    for m in pairs.MODELS:
        img = np.zeros((KEYS, 33, 5), np.float32)
        img[..., 0] = rng.uniform(100, 500, (KEYS, 33))
        img[..., 1] = (STRIDE * np.arange(KEYS))[:, None]
        found = np.ones(KEYS, bool)
        found[MISSED] = False
        img[~found] = np.nan
        world = rng.normal(0, 0.3, (KEYS, 33, 3)).astype(np.float32)
        world[~found] = np.nan
        arrays |= {f"mp_{m}_image": img, f"mp_{m}_world": world, f"mp_{m}_found": found}
    pairs.write_npz_atomic(folder / f"{name}.npz", arrays)


@pytest.fixture()
def rendered_dir(tmp_path: Path) -> Path:
    for name in ("a", "b"):
        _write_clip(tmp_path, name)
    return tmp_path


def _frame_of_y(y_norm: np.ndarray) -> np.ndarray:
    """Invert normalize_2d's y for the fixture's image size."""
    probe = normalize_2d(np.array([[0.0, 0.0], [0.0, 1.0]], np.float32), SIZE)[:, 1]
    return np.round((y_norm - probe[0]) / (probe[1] - probe[0])).astype(int)


def test_windows_use_detected_key_frames_at_trained_spacings(rendered_dir: Path) -> None:
    seqs = load_rendered(rendered_dir)
    assert len(seqs) == 4  # two clips x full and lite
    cfg = get_config("compact")
    b = rendered_batch(seqs, cfg, 64, np.random.default_rng(3))
    assert b["x2d"].shape == (64, cfg.n_tok, 17, 2) and b["y3d"].shape == (64, cfg.n_tok, 17, 3)
    spacings = set()
    for x, key, y, world in zip(b["x2d"], b["key"], b["y3d"], b["world"]):
        pos = np.flatnonzero(key)
        assert len(pos) >= 2
        src = _frame_of_y(x[pos, 0, 1])  # the frame each key token shows
        # MediaPipe's world landmarks of those same frames, from one of the clips and detectors (maybe mirrored)
        assert np.all(world[~key] == 0.0) and np.all(world[pos, :, 3] == 1.0)
        want = [world_features(s["mp_world"][src]) for s in seqs]
        assert any(np.allclose(world[pos], w) or np.allclose(world[pos], mirror_world(w)) for w in want)
        assert set(src) <= set(STRIDE * np.arange(KEYS)) - {STRIDE * MISSED}  # never a missed detection
        assert np.all(x[~key] == 0.0)
        frame = np.round(y[:, 10, 2] * 100).astype(int)  # the frame each target token is
        inner = (frame[pos] > 0) & (frame[pos] < (KEYS - 1) * STRIDE)  # not an edge copy
        np.testing.assert_array_equal(src[inner], frame[pos][inner])  # 2D and 3D of the same frame
        d = np.diff(pos)
        assert d.max() <= MAX_SPACING + STRIDE  # at most one missed key widens a gap
        spacings |= set(d.tolist())
    assert {5, 10, 15} <= spacings  # one clip trains several strides


def test_training_mixes_rendered_windows_into_each_batch(tmp_path: Path, rendered_dir: Path, mocap_dir: Path) -> None:
    out = tmp_path / "run"
    args = ["--out", str(out), "--steps", "2", "--batch", "8", "--max-clips", "3", "--val-every", "0"]
    args += ["--mocap", str(mocap_dir / "h36m17"), "--rendered", str(rendered_dir), "--rendered-frac", "0.5"]
    assert train.main(args) == 0
    ck = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == 2
    assert train.main([*args, "--out", str(tmp_path / "world"), "--world"]) == 0  # + MediaPipe's world landmarks
    ck = torch.load(tmp_path / "world" / "ckpt.pt", map_location="cpu", weights_only=True)
    assert ck["model"]["world_embed.weight"].abs().max() > 0  # it learned from the rendered windows' landmarks
    with pytest.raises(FileNotFoundError, match="no rendered pairs"):
        load_rendered(tmp_path / "empty")
    _write_clip(rendered_dir, "held_out", split="val")
    with pytest.raises(ValueError, match="val-split pairs"):
        load_rendered(rendered_dir)
