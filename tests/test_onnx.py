"""Inference without torch: the committed ONNX export, its agreement with torch, and a capture path that never
imports torch (inference/lift/onnx_backend.py, inference/training/export_onnx.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from inference import UpliftError, WeightsError, uplift
from inference.lift import DEFAULT_WEIGHTS, load_onnx
from inference.lift import onnx_backend as ob
from inference.lift.weights import file_sha256

REPO = Path(__file__).resolve().parents[1]
ARTIFACT = ob.onnx_path_for(DEFAULT_WEIGHTS)
DANCE = "02_dance_tfjs_576x576.mp4"
# Run first in a subprocess: nothing may import torch (a meta-path finder refuses it, as if not installed).
NO_TORCH = """
import sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, NoTorch())
for m in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
    del sys.modules[m]
"""


def _python(code: str, block_torch: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    src = (NO_TORCH if block_torch else "") + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", src], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _sparse(px: np.ndarray, stride: int) -> np.ndarray:
    out = px.copy()
    out[np.arange(len(px)) % stride != 0] = np.nan
    return out


@pytest.fixture(scope="module")
def val_seqs(mocap_dir: Path) -> list[dict]:
    from inference.training.evaluate import val_sequences

    return val_sequences(mocap_dir / "h36m17", 30.0, 300, 3.0, max_clips=3)


@pytest.fixture(scope="module")
def fresh_export(tmp_path_factory) -> tuple[Path, float]:
    from inference.training.export_onnx import export

    return export(DEFAULT_WEIGHTS, tmp_path_factory.mktemp("onnx") / "fresh.onnx")


def test_committed_artifact_describes_itself_and_matches_the_shipped_weights():
    from safetensors import safe_open

    meta = ob.read_metadata(ARTIFACT)
    with safe_open(str(DEFAULT_WEIGHTS), framework="np") as f:
        config = f.metadata()["config"]
    assert meta["format"] == ob.FORMAT and meta["config"] == config
    assert meta["weights_sha256"] == file_sha256(DEFAULT_WEIGHTS), "re-run `python -m inference export-onnx`"
    assert json.loads(meta["config"])["window"] == 81
    assert ARTIFACT.stat().st_size < 4e6  # fp16-stored weights: ~2.6 MB


@pytest.mark.slow
def test_fresh_export_gives_the_committed_artifacts_numbers(fresh_export):
    from inference.training.export_onnx import example_inputs

    path, diff_vs_torch = fresh_export
    assert diff_vs_torch < 1e-4
    fresh, committed = load_onnx(path, "cpu"), load_onnx(ARTIFACT, "cpu")
    assert ob.read_metadata(path)["weights_sha256"] == ob.read_metadata(ARTIFACT)["weights_sha256"]
    for k, b in ((1, 1), (30, 5), (300, 64)):
        poses, index = example_inputs(committed.cfg, k, b, seed=k)
        for a, c in zip(fresh.windows(poses, index), committed.windows(poses, index)):
            assert a.shape == c.shape and np.abs(a - c).max() < 1e-5


@pytest.mark.parametrize("stride", [1, 5, 10])
def test_onnx_matches_torch_on_val_clips(val_seqs, stride):
    for seq in val_seqs:
        px = _sparse(seq["px"], stride)
        a = uplift(px, (1920, 1080), 30.0, backend="onnx")
        b = uplift(px, (1920, 1080), 30.0, backend="torch")
        assert a.shape == b.shape == (len(px), 17, 3) and a.dtype == np.float32
        assert np.abs(a - b).max() < 1e-4, (seq["name"], stride, float(np.abs(a - b).max()))


def test_onnx_matches_torch_through_gaps_hop1_and_no_flip(val_seqs):
    px = _sparse(val_seqs[0]["px"], 5)
    px[40:250] = np.nan  # 7 s without a person: windows with no key-frame at all
    for kw in ({}, {"hop": 1}, {"flip_tta": False}):
        clip = px[:150] if kw.get("hop") == 1 else px  # hop 1 = one window per frame: the slow mode
        a = uplift(clip, (1920, 1080), 30.0, backend="onnx", **kw)
        b = uplift(clip, (1920, 1080), 30.0, backend="torch", **kw)
        assert np.abs(a - b).max() < 1e-4, kw


def test_onnx_runs_with_torch_not_installed():
    proc = _python(
        """
        import sys
        import numpy as np
        from inference import UpliftError, uplift
        px = np.random.default_rng(0).uniform(200, 500, (90, 17, 2)).astype(np.float32)
        px[np.arange(90) % 5 != 0] = np.nan
        for backend in ("onnx", "auto"):
            out = uplift(px, image_size=(640, 640), fps=30.0, backend=backend)
            assert out.shape == (90, 17, 3) and np.isfinite(out).all(), backend
        try:
            uplift(px, image_size=(640, 640), fps=30.0, backend="torch")
        except UpliftError as e:
            assert "torch" in str(e) and "not installed" in str(e), e
        else:
            raise AssertionError("torch backend ran without torch")
        assert "torch" not in sys.modules
        print("OK")
        """,
        block_torch=True,
    )
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]


@pytest.mark.slow
def test_a_whole_capture_never_imports_torch(videos_dir: Path):
    proc = _python(
        f"""
        import sys
        import numpy as np
        import inference
        res = inference.capture({str(videos_dir / DANCE)!r}, 10)
        assert res.joints3d.shape == (120, 17, 3) and np.isfinite(res.joints3d).all()
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "safetensors"))
        assert not loaded, loaded
        print("OK")
        """
    )
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]


@pytest.fixture()
def stale_weights(tmp_path: Path) -> Path:
    """Retrained weights (here: the same tensors, other bytes) with the old export still beside them."""
    from inference.lift import load_model, save_weights

    model = load_model(DEFAULT_WEIGHTS, "cpu")
    w = save_weights(model.state_dict(), model.cfg, tmp_path / "retrained.safetensors", extra={"note": "retrained"})
    shutil.copy(ARTIFACT, ob.onnx_path_for(w))
    return w


def test_a_stale_export_is_detected(stale_weights: Path):
    px = _sparse(np.random.default_rng(1).uniform(300, 700, (60, 17, 2)).astype(np.float32), 10)
    with pytest.raises(WeightsError, match="stale"):
        uplift(px, (1280, 720), 30.0, weights=stale_weights, backend="onnx")
    # auto falls back to torch when torch is there ...
    auto = uplift(px, (1280, 720), 30.0, weights=stale_weights)
    np.testing.assert_array_equal(auto, uplift(px, (1280, 720), 30.0, weights=stale_weights, backend="torch"))
    # ... and says what is wrong when it is not
    proc = _python(
        f"""
        import numpy as np
        from inference import WeightsError, uplift
        px = np.full((30, 17, 2), 300.0, np.float32)
        try:
            uplift(px, (640, 480), 30.0, weights={str(stale_weights)!r})
        except WeightsError as e:
            assert "stale" in str(e) and "export-onnx" in str(e) and "torch" in str(e), e
            print("OK")
        """,
        block_torch=True,
    )
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]


def test_missing_or_broken_exports(tmp_path: Path):
    px = _sparse(np.random.default_rng(2).uniform(300, 700, (40, 17, 2)).astype(np.float32), 5)
    own = tmp_path / "own.safetensors"
    shutil.copy(DEFAULT_WEIGHTS, own)
    with pytest.raises(WeightsError, match="no ONNX export"):
        uplift(px, (1280, 720), 30.0, weights=own, backend="onnx")
    assert uplift(px, (1280, 720), 30.0, weights=own).shape == (40, 17, 3)  # auto: torch serves it
    ob.onnx_path_for(own).write_bytes(b"not a model")
    with pytest.raises(WeightsError, match="cannot load"):
        uplift(px, (1280, 720), 30.0, weights=own, backend="onnx")
    # an .onnx file can be named directly (no safetensors needed)
    direct = uplift(px, (1280, 720), 30.0, weights=ARTIFACT, backend="onnx")
    np.testing.assert_allclose(direct, uplift(px, (1280, 720), 30.0, backend="onnx"), atol=1e-6)
    with pytest.raises(UpliftError, match="backend"):
        uplift(px, (1280, 720), 30.0, backend="tensorflow")


def test_provider_choice():
    avail = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert ob.pick_providers("auto", avail) == avail
    assert ob.pick_providers("cpu", avail) == ["CPUExecutionProvider"]
    assert ob.pick_providers("cuda:1", avail) == [("CUDAExecutionProvider", {"device_id": 1}), "CPUExecutionProvider"]
    assert (
        ob.pick_providers("auto", ["CoreMLExecutionProvider", "CPUExecutionProvider"])[0] == "CoreMLExecutionProvider"
    )
    with pytest.raises(UpliftError, match="onnxruntime-directml"):
        ob.pick_providers("dml", ["CPUExecutionProvider"])
    assert load_onnx(None, "cpu").providers == ["CPUExecutionProvider"]


def test_flip_tta_mirror_consistency_with_random_weights_on_torch(monkeypatch: pytest.MonkeyPatch):
    """tests/test_model.py's flip check runs on the default backend (now the shipped ONNX export); this one keeps
    it on random weights, through the torch backend and the shared numpy window code."""
    import torch

    from inference.lift import lifter
    from inference.lift.model import UpliftUpsample, get_config
    from inference.skeleton import FLIP_PERM

    torch.manual_seed(3)
    model = UpliftUpsample(get_config("compact")).eval()
    monkeypatch.setattr(lifter, "load_model", lambda *a, **k: model)
    rng = np.random.default_rng(1)
    px = rng.uniform([200, 100], [440, 400], (1, 17, 2)) + np.cumsum(rng.normal(0, 2, (90, 17, 2)), axis=0)
    px = _sparse(px.astype(np.float32), 5)
    mirrored = px[:, list(FLIP_PERM)].copy()
    mirrored[..., 0] = 640 - mirrored[..., 0]
    a = lifter.uplift(px, (640, 480), 30.0, backend="torch")
    b = lifter.uplift(mirrored, (640, 480), 30.0, backend="torch")
    b_back = b[:, list(FLIP_PERM)].copy()
    b_back[..., 0] = -b_back[..., 0]
    np.testing.assert_allclose(a, b_back, atol=1e-5)
    assert np.abs(a - uplift(px, (640, 480), 30.0, backend="onnx")).max() > 1e-2  # really not the shipped weights
