"""The add-on's side of the MediaPipe bundle: its models folder reaches inference's resolver, and the
download runs in a worker thread with progress and cancel (a localhost server: tests never go online)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from addon import pose_bundle  # noqa: E402

LITE = "pose_landmarker_lite.task"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server(pose_models_dir: Path):
    """Serve ../shared/models on 127.0.0.1; yields the base URL."""
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(pose_models_dir))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _lite_job(folder: Path, server: str, pose_models_dir: Path) -> pose_bundle.DownloadJob:
    sha = hashlib.sha256((pose_models_dir / LITE).read_bytes()).hexdigest()
    return pose_bundle.DownloadJob("lite", folder, online=True, url=f"{server}/{LITE}", sha256=sha)


def test_a_bundle_in_the_models_folder_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pose_models_dir: Path
) -> None:
    monkeypatch.delenv("UPLIFT_POSE_MODEL", raising=False)
    monkeypatch.setenv("UPLIFT_CACHE_DIR", str(tmp_path / "empty_cache"))
    folder = tmp_path / "models"
    with pytest.raises(pose_bundle.inference.PoseModelError):
        pose_bundle.resolve("lite", folder)
    folder.mkdir()
    (folder / LITE).write_bytes((pose_models_dir / LITE).read_bytes())
    assert pose_bundle.resolve("lite", folder) == folder / LITE


def test_download_in_a_thread_reports_progress(tmp_path: Path, server: str, pose_models_dir: Path) -> None:
    job = _lite_job(tmp_path / "models", server, pose_models_dir)
    job.start()
    job.join(60)
    assert job.done and job.error == ""
    assert job.path == tmp_path / "models" / LITE and job.path.read_bytes() == (pose_models_dir / LITE).read_bytes()
    assert job.total_bytes == job.done_bytes == job.path.stat().st_size and job.fraction() == 1.0
    assert "MB" in job.status_text()


def test_cancel_stops_the_download_and_leaves_no_file(tmp_path: Path, server: str, pose_models_dir: Path) -> None:
    folder = tmp_path / "models"
    job = _lite_job(folder, server, pose_models_dir)
    job.cancel()  # before the first chunk: the first progress callback stops it
    job.start()
    job.join(60)
    assert job.done and job.path is None and "cancelled" in job.error
    assert list(folder.iterdir()) == []  # neither the bundle nor a .part file


def test_offline_refuses_before_starting(tmp_path: Path) -> None:
    job = pose_bundle.DownloadJob("full", tmp_path, online=False)
    with pytest.raises(PermissionError, match="Online access is off"):
        job.start()
    assert not job.done and not tmp_path.joinpath("pose_landmarker_full.task").exists()


def test_download_failure_is_reported_as_text(tmp_path: Path, server: str) -> None:
    job = pose_bundle.DownloadJob("lite", tmp_path, online=True, url=f"{server}/missing.task")
    assert job.run() is None and "could not download" in job.error
