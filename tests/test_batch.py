"""Batch capture: keeps going past bad clips, never overwrites, prints a summary, exits 1 on any failure.

The batch runs in a subprocess exactly as a user types it (`python -m addon.batch ...`), with real bpy.
"""

from __future__ import annotations

import json
import os
import shutil
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
    manifest = json.loads((out / "manifest.json").read_text())
    status = {Path(c["input"]).name: (c["status"], c["error"]) for c in manifest["clips"]}
    assert set(status) == {"broken.mp4", "empty.mov", "missing.mp4"}
    assert all(s == "failed" and e for s, e in status.values()) and "empty (0 bytes)" in status["empty.mov"][1]
    assert manifest["counts"] == {"done": 0, "failed": 3, "skipped": 0} and manifest["interrupted"] is False


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
    proc = run_batch(str(tmp_path), "-o", str(tmp_path / "o"), "--frames", "40:10", tmp=tmp_path)
    assert proc.returncode == 2 and "START < STOP" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_ray_missing_says_how_to_install(tmp_path: Path) -> None:
    """Ray is optional: without it `--ray` is a clear setup error, before anything is written."""
    code = "import sys; sys.modules['ray'] = None; from addon.batch import main, _exit; _exit(main(sys.argv[1:]))"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(clip), "-o", str(out), "--ray", "local"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'ray==" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_unwritable_output_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A folder the batch cannot write to: exit 2 with the reason, no clip started, nothing written there.
    A normal user gets a read-only folder (mode 555). Root writes through any mode, so as root the folder is
    a read-only file system instead: a tmpfs mounted read-only in a private mount namespace (unshare -m),
    which vanishes with the process."""
    out = tmp_path / "out"
    out.mkdir()
    clip = tmp_path / "take.mp4"
    clip.write_bytes(b"x")
    batch = [sys.executable, "-m", "addon.batch", str(clip), "-o", str(out), "--format", "bvh"]
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    if os.geteuid() == 0:
        if not shutil.which("unshare"):
            pytest.skip("running as root without unshare: no way to make a folder root cannot write to")
        script = 'mount -t tmpfs -o ro,size=1m uplift-ro "$0" || exit 99; exec "$@"'
        cmd, reason = ["unshare", "-m", "sh", "-c", script, str(out), *batch], "Read-only file system"
    else:
        out.chmod(0o555)
        cmd, reason = batch, "Permission denied"
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
    finally:
        out.chmod(0o755)
    if proc.returncode == 99 or "unshare failed" in proc.stderr:
        pytest.skip(f"cannot mount a read-only folder here: {proc.stderr[-300:]}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot write to the output folder {out}: {reason}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(out.iterdir()) == []  # no manifest, no temp file, no output


def test_both_command_lines_share_one_convention() -> None:
    """`inference capture` and `addon.batch`: the same option names, the same parsers, one extension list."""
    sys.path.insert(0, str(REPO))
    from addon import batch, props
    from inference import cli, cli_args

    def options(ap) -> set[str]:
        return {o for a in ap._actions for o in a.option_strings}

    shared = {"-s", "--stride", "--pose-model", "--person", "--max-people", "--frames", "--device", "--overwrite"}
    assert shared <= options(cli.build_parser()) and shared <= options(batch.build_parser())
    flags = ["--stride", "auto", "--pose-model", "lite", "--person", "1", "--frames", "10:40", "--max-people", "1"]
    cap = cli.build_parser().parse_args(["clip.mp4", *flags])
    bat = batch.parse_args(["clips/", "-o", "out", *flags])
    for name in ("stride", "pose_model", "person", "frames", "max_people", "device"):
        assert getattr(cap, name) == getattr(bat, name), name
    assert (bat.stride, bat.person, bat.frames) == ("auto", 1, (10, 40))
    # the old spellings still work and mean the same
    assert batch.parse_args(["c", "-o", "o", "--frame-range", "10", "39"]).frames == (10, 40)
    assert cli.build_parser().parse_args(["c.mp4", "--model", "lite"]).pose_model == "lite"
    assert batch.parse_args(["c", "-o", "o"]).pose_model == "full"
    assert props.VIDEO_GLOB.split(";") == [f"*{s}" for s in cli_args.VIDEO_SUFFIXES]
    with pytest.raises(SystemExit):
        batch.parse_args(["c", "-o", "o", "--person", "tallest"])


def test_find_clips_orders_dedupes_and_flags_empty_folders(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from addon.batch import find_clips

    (tmp_path / "a").mkdir()
    (tmp_path / "empty").mkdir()
    for name in ("b.MP4", "a.mov", "c.txt"):
        (tmp_path / "a" / name).write_bytes(b"x")
    clips, bad = find_clips([str(tmp_path / "a"), str(tmp_path / "a" / "a.mov"), str(tmp_path / "empty")])
    assert [c.name for c in clips] == ["a.mov", "b.MP4"]
    assert [(b.name, why) for b, why in bad] == [("empty", "no video files in this folder")]
