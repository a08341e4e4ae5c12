"""Batch capture: keeps going past bad clips, never overwrites, prints a summary, exits 1 on any failure.

The batch runs in a subprocess exactly as a user types it (`python -m addon.batch ...`), with real bpy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_batch(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp / "blender_user"))
    return subprocess.run(
        [sys.executable, "-m", "addon.batch", *args], cwd=REPO, capture_output=True, text=True, env=env, timeout=900
    )


def test_bad_inputs_are_reported_and_fail_the_run(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    (clips / "broken.mp4").write_bytes(b"this is not a video" * 100)
    (clips / "empty.mov").write_bytes(b"")
    (clips / "notes.txt").write_text("ignored: not a video suffix")
    out = tmp_path / "out"
    proc = run_batch(str(clips), str(tmp_path / "missing.mp4"), "-o", str(out), "--format", "bvh", tmp=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    table = "\n".join(lines)
    assert "broken.mp4" in table and "empty.mov" in table and "missing.mp4" in table
    assert "notes.txt" not in table
    assert lines[-1] == "0 captured, 3 failed, 0 skipped"
    assert "empty (0 bytes)" in table  # the user-facing message from the video reader
    assert not list(out.glob("*.bvh")) and not list(out.glob(".*partial*"))


def test_existing_output_is_skipped_not_overwritten(tmp_path: Path) -> None:
    clip = tmp_path / "take1.mp4"
    clip.write_bytes(b"not a video")
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "take1.blend"
    existing.write_bytes(b"user's file")
    proc = run_batch(str(clip), "-o", str(out), tmp=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert existing.read_bytes() == b"user's file"
    assert "skipped" in proc.stdout and "--overwrite" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "0 captured, 0 failed, 1 skipped"


def test_argument_errors_exit_2(tmp_path: Path) -> None:
    proc = run_batch(str(tmp_path), "-o", str(tmp_path / "o"), "--stride", "0", tmp=tmp_path)
    assert proc.returncode == 2 and "--stride" in proc.stderr
    proc = run_batch(str(tmp_path), "-o", str(tmp_path / "o"), "--format", "obj", tmp=tmp_path)
    assert proc.returncode == 2


def test_find_clips_orders_dedupes_and_flags_empty_folders(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from addon.batch import find_clips

    (tmp_path / "a").mkdir()
    (tmp_path / "empty").mkdir()
    for name in ("b.MP4", "a.mov", "c.txt"):
        (tmp_path / "a" / name).write_bytes(b"x")
    clips, bad = find_clips([str(tmp_path / "a"), str(tmp_path / "a" / "a.mov"), str(tmp_path / "empty")])
    assert [c.name for c in clips] == ["a.mov", "b.MP4"]
    assert [(b.clip.name, b.status) for b in bad] == [("empty", "failed")]
