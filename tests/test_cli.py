"""`python -m inference capture` end to end (real MediaPipe, real 3D model) and its progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from test_bad_inputs import cli

from inference.cli import ProgressBar
from inference.skeleton import INDEX

SQUATS = "01_squats_tfjs_720x1280.mp4"


def test_capture_cli_writes_npz_with_summary(tmp_path: Path, videos_dir: Path) -> None:
    out = tmp_path / "squats.npz"
    p = cli(videos_dir / SQUATS, "--stride", "10", "-o", out, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr and "pose2d" in p.stderr and "frames/s ETA" in p.stderr
    assert "W0000" not in p.stderr and "INFO:" not in p.stderr  # native log chatter stays hidden
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 and "65 frames" in lines[0] and "7 key-frames (stride 10)" in lines[0]
    assert "person on 7/7" in lines[0] and str(out) in lines[0]
    with np.load(out, allow_pickle=False) as z:
        j3 = z["joints3d"]
        assert j3.shape == (65, 17, 3) and j3.dtype == np.float32 and np.isfinite(j3).all()
        np.testing.assert_allclose(j3[:, 0], 0, atol=1e-5)  # pelvis-relative
        thigh = np.linalg.norm(j3[:, INDEX["LKnee"]] - j3[:, INDEX["LHip"]], axis=-1)
        assert 0.25 < np.median(thigh) < 0.65  # metres, a human thigh
        assert z["points2d"].shape == (65, 17, 2) and z["keyframes"].tolist() == list(range(0, 65, 10))
        assert float(z["fps"]) == 5.0 and z["image_size"].tolist() == [720, 1280]
        meta = json.loads(str(z["meta"]))
    assert meta["stats"]["detected"] == 7 and meta["timings"]["uplift"] > 0


def test_frame_range_and_lite_model(tmp_path: Path, videos_dir: Path) -> None:
    out = tmp_path / "part.npz"
    p = cli(
        videos_dir / SQUATS,
        "--frames",
        "10:40",
        "--stride",
        "3",
        "--model",
        "lite",
        "--max-people",
        "1",
        "-q",
        "-o",
        out,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == ""  # quiet: no bar, no warnings for a one-person clip
    with np.load(out, allow_pickle=False) as z:
        assert z["joints3d"].shape == (30, 17, 3) and int(z["frame_start"]) == 10
        assert z["keyframes"].tolist() == list(range(0, 30, 3))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_rewrites_one_line() -> None:
    s = _Tty()
    bar = ProgressBar(s)
    for done in range(1, 101):
        bar("pose2d", done, 100)
    bar("uplift", 0, 1)
    bar("uplift", 1, 1)
    text = s.getvalue()
    assert text.count("\n") == 2  # one finished line per stage
    assert "\rpose2d  [########################] 100/100" in text
    assert "uplift" in text.splitlines()[-1]


def test_progress_bar_in_a_log_prints_sparse_lines() -> None:
    s = io.StringIO()
    bar = ProgressBar(s)
    for done in range(1, 1001):
        bar("pose2d", done, 1000)
    lines = s.getvalue().splitlines()
    assert 1 <= len(lines) <= 3 and lines[-1].startswith("pose2d") and "1000/1000" in lines[-1]
    assert "\r" not in s.getvalue()
