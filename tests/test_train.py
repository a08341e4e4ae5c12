"""Training on real mocap: data repair/split, synthetic 2D, a few real optimiser steps, resume, export, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inference.lift.model import get_config
from inference.skeleton import INDEX
from inference.training import data, synth, train


@pytest.fixture(scope="module")
def few_clips(mocap_dir: Path):
    return data.load_clips(mocap_dir / "h36m17", fps=30.0, split="train", max_clips=4)


def test_split_is_fixed_and_disjoint(mocap_dir: Path):
    tr = {c.name.split("#")[0] for c in data.load_clips(mocap_dir / "h36m17", split="train")}
    va = {c.name.split("#")[0] for c in data.load_clips(mocap_dir / "h36m17", split="val")}
    assert tr and va and not tr & va
    assert 0.05 < len(va) / (len(tr) + len(va)) < 0.25
    assert all(data.is_val(n) for n in va)


def test_clips_are_repaired_and_canonical(few_clips):
    for c in few_clips:
        assert np.isfinite(c.joints).all() and len(c.joints) >= 30
        thorax = 0.5 * (c.joints[:, INDEX["LShoulder"]] + c.joints[:, INDEX["RShoulder"]])
        np.testing.assert_allclose(c.joints[:, INDEX["Thorax"]], thorax, atol=1e-5)


def test_glitches_cut_the_clip_and_short_pieces_are_dropped():
    t = np.linspace(0, 1, 300, dtype=np.float32)
    j = np.zeros((300, 17, 3), np.float32)
    j[:, 1:, 1] = 0.5 + 0.05 * np.sin(6 * t)[:, None]
    j[150, 13, 0] += 0.4  # a CMU-style joint flip for one frame
    j[280, 16, 2] += 0.4
    pieces = data.split_glitches(j, min_len=100)
    assert [len(p) for p in pieces] == [150, 129]  # [0,150) and [151,280): glitch frames and the 19-frame tail go


def test_resample_keeps_duration():
    x = np.arange(121, dtype=np.float32)[:, None]  # 2 s at 60 Hz
    y = data.resample(x, 60.0, 30.0)
    assert len(y) == 61 and y[-1, 0] == pytest.approx(120.0)


def test_training_batch_is_sane(few_clips):
    cfg = get_config("compact")
    b = synth.training_batch(few_clips, cfg, 16, np.random.default_rng(0))
    assert b["x2d"].shape == (16, cfg.n_tok, 17, 2) and b["y3d"].shape == (16, cfg.n_tok, 17, 3)
    assert b["key"].any(axis=1).all()
    assert (b["x2d"][~b["key"]] == 0).all()
    x = b["x2d"][b["key"]]
    assert np.abs(x[..., 0]).max() <= 1.3  # bodies stay (nearly) in frame
    assert np.abs(b["y3d"][:, :, 0]).max() == 0.0  # pelvis-relative
    depth = b["y3d"][..., 2]
    assert np.abs(depth).max() < 1.5


def test_key_masks_cover_the_trained_strides():
    cfg = get_config("compact")
    rng = np.random.default_rng(0)
    for s in cfg.train_strides:
        m = synth.key_masks(64, cfg.n_tok, cfg, rng, strides=[s])
        gaps = {int(g) for row in m for g in np.diff(np.flatnonzero(row))}
        assert gaps == {s}


def test_train_resume_export_and_load(tmp_path: Path, mocap_dir: Path):
    out = tmp_path / "run"

    def run(steps: int) -> int:
        return train.main(
            [
                "--out",
                str(out),
                "--steps",
                str(steps),
                "--batch",
                "4",
                "--max-clips",
                "3",
                "--log-every",
                "1",
                "--val-every",
                "3",
                "--val-batches",
                "1",
                "--mocap",
                str(mocap_dir / "h36m17"),
            ]
        )

    assert run(3) == 0
    ck = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == 3
    first = {k: v.clone() for k, v in ck["model"].items()}
    assert run(5) == 0  # resumes at step 3
    ck = torch.load(out / "ckpt.pt", map_location="cpu", weights_only=True)
    assert ck["step"] == 5
    assert any(not torch.equal(first[k], ck["model"][k]) for k in first)
    dest = tmp_path / "w.safetensors"
    assert train.main(["--out", str(out), "--export", str(dest)]) == 0
    from inference.lift import load_model

    model = load_model(dest, "cpu")
    assert model.cfg == get_config("compact")


def test_lr_schedule_warms_up_decays_and_cools_down():
    args = train.parser().parse_args(
        ["--steps", "1000", "--warmup", "100", "--epoch-steps", "100", "--decay", "0.5", "--cooldown", "200"]
    )
    s = [train.lr_scale(k, args) for k in (0, 99, 100, 799, 800, 900, 999)]
    assert s[0] == pytest.approx(0.01) and s[1] == pytest.approx(1.0) and s[2] == pytest.approx(0.5)
    assert s[3] == pytest.approx(0.5**7) and s[4] == pytest.approx(0.5**8)
    assert s[5] == pytest.approx(0.5**9 * 0.5) and s[6] == pytest.approx(0.5**9 * 0.005)


def test_graded_keys_look_like_auto_stride():
    rng = np.random.default_rng(0)
    gaps = []
    for _ in range(200):
        t = synth.graded_keys(81, rng)
        assert (t >= 0).all() and (t < 81).all() and (np.diff(t) > 0).all()
        gaps.append(np.diff(t))
    g = np.concatenate(gaps)
    # uneven within a window: coarse first-pass gaps beside halved and quartered ones
    assert g.min() >= 2 and g.max() <= 31 and np.mean([np.ptp(d) > 4 for d in gaps if len(d) > 1]) > 0.5


def test_body_proportions_widen_only_when_asked(few_clips):
    """proportions=0 keeps the random stream (old runs reproduce); 1 draws hips etc. from the wide ranges."""
    cfg = get_config("compact")
    x = synth.sample_windows(few_clips, cfg, 256, np.random.default_rng(0))

    def half_hip(y):
        return np.linalg.norm(y[:, 0, INDEX["LHip"]] - y[:, 0, INDEX["Pelvis"]], axis=-1)

    base = synth.scale_bones(x, np.random.default_rng(5))
    assert np.array_equal(base, synth.scale_bones(x, np.random.default_rng(5), proportions=0.0))
    wide = synth.scale_bones(x, np.random.default_rng(5), proportions=1.0)
    ratio = half_hip(wide) / half_hip(x)
    lo, hi = synth.PROPORTION_RANGES[("RHip", "LHip")]
    glob = (0.88, 1.12)
    assert ratio.min() >= lo * glob[0] - 1e-4 and ratio.max() <= hi * glob[1] + 1e-4
    assert ratio.max() > 1.6 and (half_hip(base) / half_hip(x)).max() < 1.22


def test_bone_jitter_is_zero_for_a_rigid_body_and_the_std_of_a_stretching_bone():
    rng = np.random.default_rng(0)
    pose = torch.from_numpy(rng.normal(0, 0.3, (17, 3)))
    rot = torch.linalg.qr(torch.from_numpy(rng.normal(size=(5, 3, 3))))[0]
    rigid = torch.einsum("tij,kj->tki", rot, pose)[None]  # [1, 5, 17, 3]: the same body turning
    assert train.bone_jitter(rigid).item() < 1e-9
    stretched = rigid.clone()
    lengths = torch.tensor([0.40, 0.42, 0.44, 0.46, 0.48], dtype=torch.float64)
    knee, ankle = stretched[0, :, 2], stretched[0, :, 3]  # RKnee -> RAnkle: a leaf bone
    d = ankle - knee
    stretched[0, :, 3] = knee + d / d.norm(dim=-1, keepdim=True) * lengths[:, None]
    want = lengths.std().item() / 16  # one bone of the 16 moves
    assert abs(train.bone_jitter(stretched).item() - want) < 1e-9
