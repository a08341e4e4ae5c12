"""The batch at scale, as users run it (`python -m addon.batch ...` in a subprocess, real bpy, real MediaPipe):
worker processes, a bad clip among good ones, stop / kill and resume, Ray on this machine only.

Clips are copies of the 576x576 dance clip cut to a few dozen frames, so each capture takes a second or two.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLIP = "02_dance_tfjs_576x576.mp4"
NOT_FINISHED = "not finished"

pytestmark = pytest.mark.slow


def _clips(folder: Path, videos_dir: Path, names: list[str], bad: tuple[str, ...] = ()) -> Path:
    folder.mkdir()
    for name in names:
        if name in bad:
            (folder / name).write_bytes(b"\x00" * 4096)
        else:
            shutil.copyfile(videos_dir / CLIP, folder / name)
    return folder


def _cmd(clips: Path, out: Path, *extra: str, frames: str = "0:20") -> list[str]:
    return [sys.executable, "-m", "addon.batch", str(clips), "-o", str(out), "--format", "bvh", "--stride", "10"] + [
        "--frames",
        frames,
        *extra,
    ]


def _env(tmp: Path) -> dict[str, str]:
    return dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "blender_user"))


def _run(cmd: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=_env(tmp), timeout=600)


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _status(out: Path) -> dict[str, str]:
    return {Path(c["input"]).name: c["status"] for c in _manifest(out)["clips"]}


def _bvh_frames(path: Path) -> int:
    """Frames in a BVH file, checked against its motion rows: a cut-off file fails here."""
    text = path.read_text()
    declared = int(text.split("Frames:")[1].split()[0])
    rows = [ln for ln in text.split("Frame Time:")[1].splitlines()[1:] if ln.strip()]
    assert len(rows) == declared, f"{path.name}: {len(rows)} motion rows for {declared} frames"
    return declared


def _partials(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if ".partial" in p.name or p.name.endswith(".tmp")]


def test_workers_with_a_bad_clip_in_the_middle(tmp_path: Path, videos_dir: Path) -> None:
    clips = _clips(tmp_path / "clips", videos_dir, ["a.mp4", "b.mp4", "c.mp4"], bad=("b.mp4",))
    out = tmp_path / "out"
    proc = _run(_cmd(clips, out, "--workers", "2"), tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1] == "2 captured, 1 failed, 0 skipped"
    assert "2 worker(s)" in proc.stderr
    m = _manifest(out)
    by = {Path(c["input"]).name: c for c in m["clips"]}
    assert [by[n]["status"] for n in ("a.mp4", "b.mp4", "c.mp4")] == ["done", "failed", "done"]
    assert "not a video" in by["b.mp4"]["error"] and by["b.mp4"]["output"].endswith("b.bvh")
    for name in ("a", "c"):
        c = by[f"{name}.mp4"]
        assert c["error"] == "" and c["seconds"] > 0 and c["frames"] == 20 and c["keyframes"] == 2
        assert c["quality"]["detection_rate"] == 1.0 and c["quality"]["summary"].startswith("quality:")
        assert 100 < c["worker_peak_mb"] < 8000
        assert _bvh_frames(out / f"{name}.bvh") == 20
    assert not (out / "b.bvh").exists() and not _partials(out)
    assert m["runner"] == "processes" and m["counts"] == {"done": 2, "failed": 1, "skipped": 0}


def _start(cmd: list[str], tmp: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=REPO, env=_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_done(proc: subprocess.Popen, out: Path, at_least: int, skipped: int = 0, timeout: float = 300) -> None:
    """Until this run's manifest (the one with `skipped` clips skipped) shows `at_least` clips done."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, "the batch ended before it could be stopped: " + proc.stderr.read()[-2000:]
        try:
            counts = _manifest(out)["counts"]
            if counts["done"] >= at_least and counts["skipped"] == skipped:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError("no clip finished in time")


def test_stop_kill_and_resume(tmp_path: Path, videos_dir: Path) -> None:
    names = ["c1.mp4", "c2.mp4", "c3.mp4", "c4.mp4"]
    clips = _clips(tmp_path / "clips", videos_dir, names)
    out = tmp_path / "out"
    cmd = _cmd(clips, out, "--workers", "1", "--stride", "2", frames="0:120")  # slow enough to stop mid-batch

    # 1. SIGTERM (what Ctrl+C also does): a clean stop, the manifest says what is done, no partial files.
    proc = _start(cmd, tmp_path)
    _wait_done(proc, out, 1)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stdout + stderr[-3000:]
    assert "run the same command again to resume" in stderr
    m = _manifest(out)
    assert m["interrupted"] is True and m["finished"]
    done = [Path(c["input"]).name for c in m["clips"] if c["status"] == "done"]
    unfinished = [c for c in m["clips"] if c["status"] == "failed"]
    assert 1 <= len(done) < 4 and len(done) + len(unfinished) == 4
    assert all(NOT_FINISHED in c["error"] for c in unfinished)
    assert sorted(p.name for p in out.glob("*.bvh")) == sorted(n.replace(".mp4", ".bvh") for n in done)
    assert not _partials(out)

    # 2. Resume, then SIGKILL the whole process group mid-run: no cleanup can run, yet every file under an
    #    output name is complete (they only appear by rename).
    proc = _start(cmd, tmp_path)
    _wait_done(proc, out, 1, skipped=len(done))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    for bvh in out.glob("*.bvh"):
        assert _bvh_frames(bvh) == 120
    st = _status(out)
    assert all(st[n] == "skipped" for n in done)

    # 3. Resume again: the rest is captured, finished ones are skipped, no temporary file is left.
    proc3 = _run(cmd, tmp_path)
    assert proc3.returncode == 0, proc3.stdout + proc3.stderr[-3000:]
    m = _manifest(out)
    st = _status(out)
    assert sorted(st) == names and set(st.values()) <= {"done", "skipped"}
    assert m["counts"]["skipped"] >= 2 and m["counts"]["done"] >= 1  # two runs finished one each at least
    assert sorted(p.name for p in out.glob("*.bvh")) == [n.replace(".mp4", ".bvh") for n in names]
    assert all(_bvh_frames(p) == 120 for p in out.glob("*.bvh")) and not _partials(out)
    skipped = [c for c in m["clips"] if c["status"] == "skipped"]
    assert all(
        c["quality"] and c["quality"]["detection_rate"] == 1.0 for c in skipped
    )  # kept from the run that made it


def test_ray_local_two_clips(tmp_path: Path, videos_dir: Path) -> None:
    """`--ray local`: a private Ray cluster on 127.0.0.1, one task per clip, the same manifest and summary."""
    pytest.importorskip("ray")
    clips = _clips(tmp_path / "clips", videos_dir, ["r1.mp4", "r2.mp4"])
    out = tmp_path / "out"
    proc = _run(_cmd(clips, out, "--ray", "local", "--workers", "2"), tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1] == "2 captured, 0 failed, 0 skipped"
    m = _manifest(out)
    assert m["runner"] == "ray local" and m["counts"] == {"done": 2, "failed": 0, "skipped": 0}
    for c in m["clips"]:
        assert c["status"] == "done" and c["frames"] == 20 and c["quality"]["detection_rate"] == 1.0
        assert c["worker_pid"] != os.getpid() and _bvh_frames(Path(c["output"])) == 20
    assert not _partials(out)
