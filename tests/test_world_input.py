"""The optional second input: MediaPipe's world landmarks on key-frames beside the 2D (cfg.world_input).

Adding it to trained 2D-only weights must change nothing until training uses it; uplift() passes it only to
weights that read it; flip TTA mirrors it with the 2D; the ONNX export carries it and matches torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inference import UpliftError, uplift
from inference.lift import lifter
from inference.lift.model import UpliftUpsample, get_config
from inference.lift.poses import world_features
from inference.lift.weights import DEFAULT_WEIGHTS, load_model, save_weights
from inference.skeleton import FLIP_PERM
from inference.training.train import concat_batches, with_world_input


def _clip(seed: int = 1, n: int = 90, stride: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A wandering 2D pose (NaN off key-frames) and world landmarks that wander too (NaN on a missed key)."""
    rng = np.random.default_rng(seed)
    px = rng.uniform([200, 100], [440, 400], (1, 17, 2)) + np.cumsum(rng.normal(0, 2, (n, 17, 2)), axis=0)
    world = rng.normal(0, 0.3, (1, 17, 3)) + np.cumsum(rng.normal(0, 0.01, (n, 17, 3)), axis=0)
    off = np.arange(n) % stride != 0
    px[off], world[off] = np.nan, np.nan
    world[2 * stride] = np.nan
    return px.astype(np.float32), world.astype(np.float32)


def _trained_2d_only() -> Path:
    """Trained 2D-only weights: the shipped file while it is one, else the first such candidate (so these
    tests keep their meaning when a world-input lifter ships)."""
    candidates = sorted((Path(__file__).resolve().parents[1] / "inference/training/candidates").glob("*.safetensors"))
    for path in (DEFAULT_WEIGHTS, *candidates):
        if not load_model(path, "cpu").cfg.world_input:
            return path
    raise AssertionError("no trained 2D-only weights in the repository")


def _random_world_model() -> UpliftUpsample:
    torch.manual_seed(5)
    model = with_world_input(UpliftUpsample(get_config("compact")))
    torch.nn.init.normal_(model.world_embed.weight, std=0.5)
    return model.eval()


def test_world_features_are_pelvis_relative_with_a_presence_flag():
    world = np.random.default_rng(0).normal(0, 0.3, (3, 17, 3)).astype(np.float32)
    world[1, 4] = np.nan  # one missing joint makes the whole key-frame absent
    f = world_features(world)
    assert f.shape == (3, 17, 4)
    np.testing.assert_allclose(f[0, :, :3], world[0] - world[0, :1], atol=1e-6)
    assert np.all(f[[0, 2], :, 3] == 1) and np.all(f[1] == 0)


def test_adding_the_world_input_to_trained_weights_changes_nothing():
    base = load_model(_trained_2d_only(), "cpu")
    model = with_world_input(base).eval()
    assert model.cfg.world_input and not base.cfg.world_input
    rng = np.random.default_rng(2)
    poses = torch.from_numpy(rng.uniform(-0.6, 0.6, (12, 17, 2)).astype(np.float32))
    index = torch.from_numpy(rng.integers(-1, 12, (3, model.cfg.n_tok)))
    feats = torch.from_numpy(world_features(rng.normal(0, 0.3, (12, 17, 3))))
    with torch.inference_mode():
        ref = base.forward_windows(poses, index)
        for got in (model.forward_windows(poses, index, feats), model.forward_windows(poses, index)):
            for a, b in zip(got, ref):
                torch.testing.assert_close(a, b)


def test_uplift_passes_world_landmarks_only_to_weights_that_read_them(monkeypatch: pytest.MonkeyPatch):
    px, world = _clip()
    plain = _trained_2d_only()
    blind2d = uplift(px, (640, 480), 30.0, weights=plain, backend="torch")
    np.testing.assert_array_equal(blind2d, uplift(px, (640, 480), 30.0, weights=plain, backend="torch", world=world))
    monkeypatch.setattr(lifter, "load_model", lambda *a, **k: _random_world_model())
    blind = lifter.uplift(px, (640, 480), 30.0, backend="torch")
    seeing = lifter.uplift(px, (640, 480), 30.0, backend="torch", world=world)
    assert np.abs(seeing - blind).max() > 1e-2
    # flip TTA mirrors the world landmarks with the 2D: a mirrored clip gives the mirrored answer
    mpx, mworld = px[:, list(FLIP_PERM)].copy(), world[:, list(FLIP_PERM)].copy()
    mpx[..., 0], mworld[..., 0] = 640 - mpx[..., 0], -mworld[..., 0]
    back = lifter.uplift(mpx, (640, 480), 30.0, backend="torch", world=mworld)[:, list(FLIP_PERM)]
    back[..., 0] = -back[..., 0]
    np.testing.assert_allclose(seeing, back, atol=1e-5)
    with pytest.raises(UpliftError, match="world must have shape"):
        lifter.uplift(px, (640, 480), 30.0, backend="torch", world=world[:10])


def test_batches_without_world_landmarks_are_zero_filled():
    a = {"key": np.ones((2, 3), bool), "x2d": np.ones((2, 3, 17, 2), np.float32)}
    b = dict(a, world=np.ones((1, 3, 17, 4), np.float32), key=np.ones((1, 3), bool), x2d=np.ones((1, 3, 17, 2)))
    c = concat_batches(a, b)
    assert c["world"].shape == (3, 3, 17, 4) and c["world"][:2].max() == 0 and c["world"][2].min() == 1


@pytest.mark.slow
def test_onnx_export_of_a_world_model_matches_torch(tmp_path: Path):
    from inference.lift import load_onnx
    from inference.training.export_onnx import export

    model = _random_world_model()
    weights = save_weights(model.state_dict(), model.cfg, tmp_path / "world.safetensors", fp16=False)
    path, diff = export(weights)  # export() itself checks ONNX against torch with world features
    assert diff < 1e-4
    px, world = _clip(seed=3)
    for kw in ({"world": world}, {}):
        a = uplift(px, (640, 480), 30.0, weights=weights, backend="onnx", **kw)
        b = uplift(px, (640, 480), 30.0, weights=weights, backend="torch", **kw)
        assert np.abs(a - b).max() < 1e-4, kw
    assert load_onnx(weights, "cpu").cfg.world_input


def test_stand_in_world_landmarks_have_the_measured_noise():
    """synthetic_world draws from what fit_world_noise measures: fitting its output gives the noise back."""
    from inference.training.world_synth import WorldNoise, fit_world_noise, synthetic_world

    rng = np.random.default_rng(4)
    std = np.full((17, 3), 0.06) * np.array([1.0, 0.8, 1.5])
    std[0] = 0.0
    truth = WorldNoise(rot_deg=np.array([10.0, 15.0]), scale=np.array([0.95, 1.05]), joint_std=std)
    y3d = rng.normal(0, 0.3, (40, 81, 17, 3)).astype(np.float32)
    y3d -= y3d[:, :, :1]
    key = np.zeros((40, 81), bool)
    key[:, ::5] = True
    feats = synthetic_world(y3d, key, truth, rng)
    assert np.all(feats[~key] == 0) and np.all(feats[key][..., 3] == 1)
    seqs = []
    for y, f in zip(y3d, feats):
        world = np.where(f[..., 3:] > 0, f[..., :3], np.nan)
        seqs.append({"keys": np.flatnonzero(key[0]), "mp_world": world, "gt": y})
    got = fit_world_noise(seqs)
    assert np.all(np.minimum(abs(got.rot_deg - 10), abs(got.rot_deg - 15)) < 2)  # each clip's own rotation
    assert np.all(np.minimum(abs(got.scale - 0.95), abs(got.scale - 1.05)) < 0.04), got.scale
    np.testing.assert_allclose(got.joint_std[1:], std[1:], rtol=0.25)
