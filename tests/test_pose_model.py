"""MediaPipe bundle resolution and the sha256-checked download, against local files and a localhost server
(never the real host: this machine is offline, and tests must not download)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from inference.errors import PoseModelError
from inference.pose2d.bundle import VARIANTS, default_cache_dir, fetch_pose_model, main, resolve_pose_model


@pytest.fixture()
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No env var, an empty user cache under tmp_path."""
    monkeypatch.delenv("UPLIFT_POSE_MODEL", raising=False)
    monkeypatch.setenv("UPLIFT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture()
def server(pose_models_dir: Path):
    """Serve ../shared/models on localhost; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(pose_models_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_env_folder_file_and_explicit_path(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, pose_models_dir: Path
) -> None:
    monkeypatch.setenv("UPLIFT_POSE_MODEL", str(pose_models_dir))
    assert resolve_pose_model("lite") == pose_models_dir / "pose_landmarker_lite.task"
    assert resolve_pose_model("full") == pose_models_dir / "pose_landmarker_full.task"
    monkeypatch.setenv("UPLIFT_POSE_MODEL", str(pose_models_dir / "pose_landmarker_lite.task"))
    assert resolve_pose_model("full").name == "pose_landmarker_lite.task"  # a file in the env wins for any variant
    explicit = pose_models_dir / "pose_landmarker_full.task"
    assert resolve_pose_model(str(explicit)) == explicit


def test_user_cache_is_used_after_env(isolated: Path, pose_models_dir: Path) -> None:
    assert default_cache_dir() == isolated / "cache" / "mediapipe"
    default_cache_dir().mkdir(parents=True)
    shutil.copy(pose_models_dir / "pose_landmarker_lite.task", default_cache_dir())
    assert resolve_pose_model("lite") == default_cache_dir() / "pose_landmarker_lite.task"


def test_missing_model_never_downloads_and_says_where_to_put_it(isolated: Path, monkeypatch) -> None:
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: pytest.fail("must not touch the network"))
    with pytest.raises(PoseModelError) as e:
        resolve_pose_model("full")
    msg = str(e.value)
    assert str(default_cache_dir() / "pose_landmarker_full.task") in msg
    assert VARIANTS["full"].url in msg and "UPLIFT_POSE_MODEL" in msg and "fetch-model" in msg


def test_bad_explicit_paths(isolated: Path) -> None:
    with pytest.raises(PoseModelError, match="not found"):
        resolve_pose_model(str(isolated / "nope.task"))
    fake = isolated / "fake.task"
    fake.write_text("<html>404</html>")
    with pytest.raises(PoseModelError, match="not a MediaPipe PoseLandmarker"):
        resolve_pose_model(str(fake))
    with pytest.raises(PoseModelError, match="folder"):
        resolve_pose_model(str(isolated))


def test_download_checks_sha256_and_writes_atomically(isolated: Path, server: str, pose_models_dir: Path) -> None:
    src = pose_models_dir / "pose_landmarker_lite.task"
    dest = isolated / "dl"
    # The shared bundle is a re-pack, so the official hash must reject it: nothing may be left behind.
    with pytest.raises(PoseModelError, match="sha256") as e:
        fetch_pose_model("lite", dest, url=f"{server}/{src.name}")
    assert VARIANTS["lite"].sha256 in str(e.value)
    assert list(dest.iterdir()) == []
    # With the right hash for this file it lands in place, byte-identical.
    path = fetch_pose_model("lite", dest, url=f"{server}/{src.name}", sha256=_sha(src))
    assert path == dest / "pose_landmarker_lite.task" and _sha(path) == _sha(src)
    assert [p.name for p in dest.iterdir()] == ["pose_landmarker_lite.task"]


def test_resolve_downloads_only_when_allowed(isolated: Path, server: str, monkeypatch) -> None:
    monkeypatch.setitem(
        VARIANTS, "lite", VARIANTS["lite"].__class__("lite", f"{server}/pose_landmarker_lite.task", "0" * 64, 0)
    )
    with pytest.raises(PoseModelError, match="not found"):
        resolve_pose_model("lite")
    with pytest.raises(PoseModelError, match="sha256"):
        resolve_pose_model("lite", allow_download=True)  # it tried, and refused the mismatching file
    assert not (default_cache_dir() / "pose_landmarker_lite.task").exists()


def test_offline_download_message(isolated: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PoseModelError) as e:
        fetch_pose_model("full", isolated / "dl", url=f"http://127.0.0.1:{port}/pose_landmarker_full.task", timeout=5)
    msg = str(e.value)
    assert "offline" in msg and str(isolated / "dl" / "pose_landmarker_full.task") in msg


def test_fetch_model_cli(isolated: Path, server: str, pose_models_dir: Path, capsys) -> None:
    assert main(["lite", "--where"]) == 2
    assert "fetch-model lite" in capsys.readouterr().err
    src = pose_models_dir / "pose_landmarker_lite.task"
    assert main(["lite", "--url", f"{server}/{src.name}", "--sha256", _sha(src)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == str(default_cache_dir() / "pose_landmarker_lite.task")
    assert main(["lite", "--where"]) == 0 and capsys.readouterr().out.strip() == out
