"""`python -m inference capture` end to end (real MediaPipe, real 3D model) and its progress bar."""

from __future__ import annotations

import io
import json
from pathlib import Path

import faults
import numpy as np
import pytest
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
    assert len(lines) == 2 and "65 frames" in lines[0] and "7 key-frames (stride 10)" in lines[0]
    assert "person on 7/7" in lines[0] and str(out) in lines[0]
    assert lines[1].startswith("quality: person on 100 % of 7 key-frames") and "jitter" in lines[1]
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


def test_auto_stride_with_report_and_plot(tmp_path: Path) -> None:
    """The contract: `capture CLIP --stride auto -o OUT.npz --report OUT.json` (+ --plot); a second cut to
    black is flagged `lost` and the capture still succeeds."""
    clip = faults.blacked_out(tmp_path / "gap.mp4", 30, 60)
    out, rep, png = tmp_path / "gap.npz", tmp_path / "gap.json", tmp_path / "gap.png"
    p = cli(clip, "--stride", "auto", "-o", out, "--report", rep, "--plot", png, "-q", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert "stride auto, effective" in lines[0] and lines[1].startswith("quality:") and "1 lost" in lines[1]
    d = json.loads(rep.read_text())
    assert {"detection_rate", "keyframes", "effective_stride", "flags", "metrics"} <= set(d)
    assert set(d["metrics"]) == {"jitter", "bone_length_std_mm", "foot_slide_mm"}
    assert d["stride"] == "auto" and d["effective_stride"] == pytest.approx(90 / len(d["keyframes"]), abs=1e-3)
    lost = [f for f in d["flags"] if f["kind"] == "lost"]
    assert len(lost) == 1 and 25 <= lost[0]["start_frame"] <= 31 and 58 <= lost[0]["end_frame"] <= 64
    assert set(lost[0]) == {"start_frame", "end_frame", "kind", "detail"}
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    with np.load(out, allow_pickle=False) as z:
        assert json.loads(str(z["report"]))["keyframes"] == z["keyframes"].tolist() == d["keyframes"]
        assert z["confidence"].shape == (90,) and json.loads(str(z["meta"]))["stride_mode"] == "auto"
    again = cli(clip, "--stride", "auto", "-o", tmp_path / "new.npz", "--report", rep, "-q", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr  # never replaces a report silently


def test_frame_range_and_lite_model(tmp_path: Path, videos_dir: Path) -> None:
    out = tmp_path / "part.npz"
    p = cli(
        videos_dir / SQUATS,
        "--frames",
        "10:40",
        "--stride",
        "3",
        "--pose-model",
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
