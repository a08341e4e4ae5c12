"""The Uplift-and-Upsample network: sizes of the paper presets, shapes, key-frame masking, flip consistency."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.lift.model import PRESETS, UpliftUpsample, count_parameters, flip_2d, flip_3d, get_config, normalize_2d
from inference.skeleton import FLIP_PERM


def _inputs(cfg, b: int = 2, stride: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(b, cfg.n_tok, 17, 2, generator=g) * 1.6 - 0.8
    pos = torch.arange(cfg.n_tok) * cfg.s_out
    key = (pos % stride == 0)[None].repeat(b, 1)
    return x, key


@pytest.mark.parametrize("name", ["paper-81", "paper-351"])
def test_paper_presets_have_the_papers_size(name):
    n = count_parameters(UpliftUpsample(get_config(name)))
    assert abs(n - 10.4e6) / 10.4e6 < 0.02, n


def test_paper_token_counts():
    assert get_config("paper-81").n_tok == 41 and get_config("paper-351").n_tok == 71


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_shapes(name):
    cfg = get_config(name)
    model = UpliftUpsample(cfg).eval()
    stride = 20 if cfg.s_out in (1, 2, 4, 5, 10, 20) else cfg.s_out
    x, key = _inputs(cfg, stride=stride)
    with torch.no_grad():
        seq, centre = model(x, key)
    assert seq.shape == (2, cfg.n_tok, 17, 3) and centre.shape == (2, 17, 3)
    assert torch.isfinite(seq).all() and torch.isfinite(centre).all()


@pytest.mark.parametrize("name", ["compact", "paper-81"])
def test_non_key_2d_is_ignored(name):
    cfg = get_config(name)
    torch.manual_seed(0)
    model = UpliftUpsample(cfg).eval()
    x, key = _inputs(cfg, stride=10 if cfg.s_out == 1 else 10)
    with torch.no_grad():
        seq0, c0 = model(x, key)
        x2 = x.clone()
        x2[~key] = torch.randn_like(x2[~key]) * 5  # garbage where no 2D exists
        seq1, c1 = model(x2, key)
        x3 = x.clone()
        first_key = int(torch.nonzero(key[0])[0])
        x3[:, first_key] += 0.3  # a key-frame change must matter
        seq3, c3 = model(x3, key)
    assert torch.allclose(seq0, seq1) and torch.allclose(c0, c1)
    assert (seq3 - seq0).abs().max() > 1e-4


def test_key_mask_changes_output():
    cfg = get_config("compact")
    torch.manual_seed(1)
    model = UpliftUpsample(cfg).eval()
    x, key = _inputs(cfg, stride=5)
    key2 = key.clone()
    key2[:, 1::5] = True  # more key-frames with the same 2D
    with torch.no_grad():
        a, _ = model(x, key)
        b, _ = model(x, key2)
    assert (a - b).abs().max() > 1e-4


def test_flip_is_an_involution_and_swaps_sides():
    x = torch.randn(3, 5, 17, 2)
    assert torch.equal(flip_2d(flip_2d(x)), x)
    y = torch.randn(3, 17, 3)
    assert torch.equal(flip_3d(flip_3d(y)), y)
    f = flip_3d(y)
    assert torch.equal(f[:, 1, 0], -y[:, 4, 0]) and torch.equal(f[:, 1, 1:], y[:, 4, 1:])
    assert sorted(FLIP_PERM) == list(range(17))


def test_flip_tta_is_mirror_consistent(monkeypatch: pytest.MonkeyPatch):
    """TTA output for a mirrored clip is the mirrored TTA output (holds for any weights if flips are right)."""
    from inference.lift import lifter as lift

    cfg = get_config("compact")
    torch.manual_seed(2)
    model = UpliftUpsample(cfg).eval()
    w, h = 640, 480
    rng = np.random.default_rng(0)
    t = 90
    base = rng.uniform([200, 100], [440, 400], (1, 17, 2)).astype(np.float32)
    px = base + np.cumsum(rng.normal(0, 2, (t, 17, 2)), axis=0).astype(np.float32)
    px[np.arange(t) % 5 != 0] = np.nan
    mirrored = px[:, list(FLIP_PERM)].copy()
    mirrored[..., 0] = w - mirrored[..., 0]
    monkeypatch.setattr(lift, "load_model", lambda *a, **k: model)  # random weights, not the shipped ones
    a = lift.uplift(px, (w, h), 30.0)
    b = lift.uplift(mirrored, (w, h), 30.0)
    b_back = b[:, list(FLIP_PERM)].copy()
    b_back[..., 0] = -b_back[..., 0]
    np.testing.assert_allclose(a, b_back, atol=1e-5)


def test_normalize_keeps_aspect():
    px = np.array([[0.0, 0.0], [640.0, 480.0], [320.0, 240.0]], np.float32)
    n = normalize_2d(px, (640, 480))
    np.testing.assert_allclose(n, [[-1, -0.75], [1, 0.75], [0, 0]], atol=1e-6)
    nt = normalize_2d(torch.from_numpy(px), (640, 480))
    np.testing.assert_allclose(nt.numpy(), n, atol=1e-6)
