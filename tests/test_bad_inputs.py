"""Bad inputs through the real CLI in a subprocess: a clear message, exit code 2, no traceback, and no
output file unless there is something worth keeping (a clip damaged part-way)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from test_video import write_clip

WALK = "04_sideview_walk_jump_sports2d_1768x994.mp4"  # its index is at the start: a cut copy still opens


def cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "inference", "capture", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def make_input(kind: str, tmp: Path, videos_dir: Path) -> Path:
    clip = tmp / f"{kind}.mp4"
    if kind == "zero_bytes":
        clip.write_bytes(b"")
    elif kind == "text":
        clip.write_text("these are my holiday notes, not a video\n" * 20)
    elif kind == "no_person":
        rng = np.random.default_rng(1)
        write_clip(clip, [rng.integers(90, 140, (240, 320, 3), dtype=np.uint8) for _ in range(15)])
    elif kind == "one_frame":
        import av

        with av.open(str(videos_dir / "02_dance_tfjs_576x576.mp4")) as c:
            first = next(c.decode(video=0)).to_ndarray(format="rgb24")
        write_clip(clip, [first])
    elif kind == "truncated":
        data = (videos_dir / WALK).read_bytes()
        clip.write_bytes(data[: int(len(data) * 0.6)])
    return clip


# kind -> (what stderr must say, whether an output file is written)
CASES = {
    "missing": ("not found", False),
    "zero_bytes": ("empty (0 bytes)", False),
    "text": ("Cannot open", False),
    "no_person": ("no person found", False),
    "one_frame": ("only 1 frame", False),
    "truncated": ("damaged or truncated at frame", True),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_bad_input_gives_clear_error_and_exit_code(kind: str, tmp_path: Path, videos_dir: Path) -> None:
    clip = make_input(kind, tmp_path, videos_dir)
    out = tmp_path / "out.npz"
    p = cli(clip, "--stride", "10", "-o", out, "--quiet", cwd=tmp_path)
    expect, writes = CASES[kind]
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and expect in p.stderr, p.stderr
    assert f"error: " in p.stderr and str(clip.name) in p.stderr
    assert out.exists() == writes
    if writes:
        assert "partial capture written" in p.stderr
        with np.load(out, allow_pickle=False) as z:
            T = len(z["timestamps"])
            assert 60 < T < 230 and z["joints3d"].shape == (T, 17, 3)
            assert z["keyframes"].tolist() == list(range(0, T, 10)) and z["detected"].sum() >= 2


def test_existing_output_is_never_overwritten(tmp_path: Path, videos_dir: Path) -> None:
    out = tmp_path / "take1.npz"
    out.write_bytes(b"the user's earlier capture")
    p = cli(videos_dir / "01_squats_tfjs_720x1280.mp4", "-o", out, cwd=tmp_path)
    assert p.returncode == 2 and "already exists" in p.stderr and "--overwrite" in p.stderr
    assert out.read_bytes() == b"the user's earlier capture"


def test_bad_options_are_rejected_by_the_parser(tmp_path: Path, videos_dir: Path) -> None:
    clip = videos_dir / "01_squats_tfjs_720x1280.mp4"
    for args in (["--person", "tallest"], ["--frames", "9:3"], ["--stride", "0"]):
        p = cli(clip, *args, "-o", tmp_path / "x.npz", cwd=tmp_path)
        assert p.returncode == 2 and "Traceback" not in p.stderr and p.stderr.strip(), args
    assert not (tmp_path / "x.npz").exists()


def test_missing_pose_model_says_where_to_put_it(tmp_path: Path, videos_dir: Path) -> None:
    env_model = os.environ.get("UPLIFT_POSE_MODEL")
    try:
        os.environ["UPLIFT_POSE_MODEL"] = str(tmp_path / "nowhere")
        os.environ["UPLIFT_CACHE_DIR"] = str(tmp_path / "cache")
        p = cli(videos_dir / "01_squats_tfjs_720x1280.mp4", "-o", tmp_path / "x.npz", cwd=tmp_path)
    finally:
        os.environ.pop("UPLIFT_CACHE_DIR")
        if env_model is not None:
            os.environ["UPLIFT_POSE_MODEL"] = env_model
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "pose_landmarker_full.task" in p.stderr and "fetch-model" in p.stderr
