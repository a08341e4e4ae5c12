"""The learned up cue: its numpy inference is the trained network, it needs no torch, and it finds up.

The up accuracy is measured on the lifter's output for the bench's validation-split scenes
(bench/upright_scenes.py): clips that neither the lifter nor this network saw in training.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import upright_scenes as us  # noqa: E402

from inference.training import train_up  # noqa: E402
from inference.training.data import is_val  # noqa: E402
from retarget import gravity, learned_up  # noqa: E402


def test_weights_are_shipped_and_read_without_the_safetensors_package() -> None:
    from safetensors.numpy import load_file

    ours, meta = learned_up.read_safetensors(learned_up.WEIGHTS)
    theirs = load_file(str(learned_up.WEIGHTS))
    assert set(ours) == set(theirs)
    for k in theirs:
        np.testing.assert_array_equal(ours[k], theirs[k])
    assert meta["format"] == learned_up.FORMAT == train_up.FORMAT
    assert int(meta["window"]) == train_up.WINDOW and float(meta["dt_s"]) == train_up.DT_S


def test_numpy_network_is_the_trained_one() -> None:
    """Same windows as training cuts them (at the training rate), same output as the torch module."""
    import torch

    net = learned_up.load()
    scene = us.scenes(["walk toward"], per_clip=1)[0]
    rel = scene.cam() - scene.cam()[:, :1]
    x = net.features(rel, us.FPS)
    idx, _ = train_up.window_index(np.array([len(rel)]), hop=int(round(train_up.HOP_S * train_up.FPS)))
    np.testing.assert_allclose(x, rel[:, 1:][idx].reshape(len(idx), -1), atol=1e-9)
    t, _ = learned_up.read_safetensors(learned_up.WEIGHTS)
    module = train_up.Net(x.shape[1], t["enc0.w"].shape[0]).eval()
    state = {k.replace(".w", ".weight").replace(".b", ".bias"): torch.tensor(v) for k, v in t.items() if "." in k}
    state = {
        k.replace("enc0", "enc.0").replace("enc1", "enc.1").replace("head0", "head.0"): v for k, v in state.items()
    }
    module.load_state_dict({k.replace("head1", "head.1"): v for k, v in state.items()})
    xt = (torch.tensor(x, dtype=torch.float32)[None] - torch.tensor(t["mean"])) / torch.tensor(t["std"])
    with torch.no_grad():
        u, log_s = module(xt, torch.ones(1, len(x), dtype=torch.bool))
    up, sigma = net(x)
    np.testing.assert_allclose(up, u[0].numpy(), atol=1e-4)
    assert abs(sigma / (np.exp(float(log_s[0])) * net.sigma_scale) - 1) < 1e-3


def test_retarget_runs_it_without_torch() -> None:
    code = (
        "import sys, numpy as np; from retarget import gravity; "
        "rel = np.zeros((40, 17, 3)); rel[:, 1:] = np.random.default_rng(0).normal(0, 0.3, (40, 16, 3)); "
        "gravity.learned_cue(rel, 30.0); "
        "assert 'torch' not in sys.modules and 'safetensors' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_bench_scenes_are_validation_clips() -> None:
    """Neither the lifter nor the learned cue trained on them (inference.training.data's split)."""
    train = [n for names in us.CLASSES.values() for n in names if not is_val(n)]
    assert not train


def test_missing_weights_leave_the_rule_cues(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(learned_up, "WEIGHTS", tmp_path / "none.safetensors")
    monkeypatch.setattr(learned_up, "load", lambda path=tmp_path / "none.safetensors": None)
    scene = us.scenes(["stand"], per_clip=1)[0]
    rel = scene.cam() - scene.cam()[:, :1]
    px, _ = us.observe(scene)
    assert gravity.learned_cue(rel, us.FPS) is None
    assert "learned" not in gravity.estimate_up(rel, us.FPS, points2d=px).method


@pytest.fixture(scope="module")
def lifted_scenes() -> list[tuple[us.Scene, np.ndarray, np.ndarray]]:
    out = []
    for scene in us.scenes(["stand", "pick up", "walk across", "jump"], per_clip=1, max_clips=2):
        px, _ = us.observe(scene)
        out.append((scene, px, us.lifted(scene, px, REPO / "runs" / "upright_lift_cache")))
    return out


def test_learned_cue_reads_up_off_the_lifters_output(lifted_scenes) -> None:
    """Alone, on the lifter's output of unseen clips: a few degrees (the rule cues are 5-9 deg off on stand,
    pick up and walk across, docs/retarget.md), with an uncertainty of the size of its error."""
    errs, sigmas = [], []
    for scene, _, lifted in lifted_scenes:
        up, sigma, _ = learned_up.predict(lifted, us.FPS)
        errs.append(us.tilt_deg(up, scene.up_cam))
        sigmas.append(np.degrees(sigma))
    print("learned cue errors", np.round(errs, 1), "sigmas", np.round(sigmas, 1))
    assert np.median(errs) < 6.0 and max(errs) < 20.0
    assert 1.5 < np.median(sigmas) < 10.0


def test_learned_cue_makes_up_better_on_the_lifters_output(lifted_scenes, monkeypatch) -> None:
    from retarget.motion import retarget_motion

    def errors() -> np.ndarray:
        out = []
        for scene, px, lifted in lifted_scenes:
            m = retarget_motion(lifted, fps=us.FPS, points2d=px, image_size=scene.image_size)
            out.append(us.tilt_deg(m.floor.up_cam, scene.up_cam))
        return np.array(out)

    with_it = errors()
    monkeypatch.setattr(gravity, "learned_cue", lambda rel, fps: None)
    without = errors()
    print(f"fused tilt error with the learned cue {np.round(with_it, 1)}, without {np.round(without, 1)}")
    assert np.median(with_it) < np.median(without) and np.mean(with_it) < np.mean(without)


def test_capture_reports_the_learned_cue(lifted_scenes) -> None:
    from retarget.motion import retarget_motion

    scene, px, lifted = lifted_scenes[0]
    m = retarget_motion(lifted, fps=us.FPS, points2d=px, image_size=scene.image_size)
    assert "learned" in m.floor.up_method and "learned" in m.floor.describe()
