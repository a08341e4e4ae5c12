"""The capture job's error contract: a damaged clip keeps what was captured before the damage, other errors
are stored for the UI and re-raised, and nothing partial survives a cancel."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("bpy")

import inference  # noqa: E402
from addon import job  # noqa: E402


def _job(video: Path, exc: BaseException) -> job.CaptureJob:
    def capture(*args, **kwargs):
        raise exc

    return job.CaptureJob(job.CaptureOptions(video=str(video)), capture_fn=capture)


def test_a_partial_capture_is_kept_with_a_warning(tmp_path: Path, mocap_result) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    err = inference.PartialCaptureError("damaged at frame 50", mocap_result, path=clip, frames_read=50)
    capture_job = _job(clip, err)
    assert capture_job.run() is mocap_result
    assert capture_job.error is None and capture_job.warnings == ["damaged at frame 50"]


def test_a_partial_capture_with_nothing_usable_is_an_error(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    capture_job = _job(clip, inference.PartialCaptureError("damaged at frame 1", None))
    with pytest.raises(inference.PartialCaptureError):
        capture_job.run()
    assert capture_job.result is None and capture_job.error_message() == "damaged at frame 1"


def test_an_unexpected_error_is_stored_with_its_traceback(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    capture_job = _job(clip, ZeroDivisionError("boom"))
    with pytest.raises(ZeroDivisionError):
        capture_job.run()
    assert "unexpected error" in capture_job.error_message() and "ZeroDivisionError" in capture_job.error_detail
