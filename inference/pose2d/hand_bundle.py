"""Find (or, only when asked, download) the MediaPipe HandLandmarker `.task` bundle for `hands="fingers"`.

Resolution order of `resolve_hand_model()`, the same as the pose bundle's (pose2d/bundle.py):
    1. an explicit path - used as-is;
    2. env `UPLIFT_HAND_MODEL`: a `.task` file, or a folder holding `hand_landmarker.task` (or
       `hand_landmarker_full.task`, the name of a re-packed local bundle);
    3. the cache folder (`cache_dir=`, else `default_cache_dir()`), `hand_landmarker.task`;
    4. a download of Google's official bundle into the cache - only with `allow_download=True`, written
       atomically and checked against `OFFICIAL_SHA256`.

`OFFICIAL_SHA256` is the one place the official bundle's hash is pinned. It could not be taken from the
official download when this was written (the model host was unreachable), so it is empty: a download then
needs the hash passed explicitly (`sha256=`), and without one it is refused rather than trusted. Fill the
constant from the official file (`sha256sum hand_landmarker.task`) to enable the plain download.
A local file is checked to be a HandLandmarker bundle (the zip members) but not hashed, like the pose bundle.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..errors import PoseModelError
from .bundle import check_task_bundle, default_cache_dir, download_bundle

ENV_VAR = "UPLIFT_HAND_MODEL"
FILENAME = "hand_landmarker.task"
LOCAL_NAMES = (FILENAME, "hand_landmarker_full.task")
BUNDLE_MEMBERS = ("hand_detector.tflite", "hand_landmarks_detector.tflite")
OFFICIAL_URL = (
    "https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task"
)
OFFICIAL_SHA256 = ""  # TODO(release): sha256 of OFFICIAL_URL, taken from the real download (see module doc)
OFFICIAL_SIZE = 7_800_000  # approximate bytes, only for the progress bar when the server sends no length


def check_hand_bundle(path: Path) -> Path:
    """Raise PoseModelError unless `path` is a readable HandLandmarker bundle."""
    return check_task_bundle(path, "Hand", BUNDLE_MEMBERS, OFFICIAL_URL)


def _candidates(cache: Path) -> list[Path]:
    out: list[Path] = []
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        p = Path(env).expanduser()
        out.extend([p] if p.suffix == ".task" else [p / n for n in LOCAL_NAMES])
    out.append(cache / FILENAME)
    return out


def resolve_hand_model(
    model: str | os.PathLike | None = None,
    *,
    allow_download: bool = False,
    cache_dir: Path | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Path:
    """Path of a usable hand bundle: `model` if given, else the env var / cache, else (if allowed) a download."""
    if model is not None and str(model):
        path = Path(model).expanduser()
        if not path.is_file():
            raise PoseModelError(f"MediaPipe hand model file not found: {path}; give a hand_landmarker.task bundle")
        return check_hand_bundle(path)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    looked = _candidates(cache)
    for path in looked:
        if path.is_file():
            return check_hand_bundle(path)
    if not allow_download:
        raise PoseModelError(
            f"MediaPipe hand model not found (looked in: {', '.join(map(str, looked))}). Download "
            f"{OFFICIAL_URL} and put it at {cache / FILENAME}, or point {ENV_VAR} at the file or its folder."
        )
    return fetch_hand_model(cache, sha256=sha256, progress=progress, should_cancel=should_cancel)


def fetch_hand_model(
    dest_dir: Path | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Path:
    """Download the hand bundle into `dest_dir` (default: the cache), sha256-checked, atomically."""
    expected = sha256 or OFFICIAL_SHA256
    final = (Path(dest_dir) if dest_dir else default_cache_dir()) / FILENAME
    if not expected:
        raise PoseModelError(
            f"no sha256 is pinned for the official hand model in this build, so it is not downloaded unchecked. "
            f"Download {OFFICIAL_URL} yourself and put it at {final} (or point {ENV_VAR} at it)."
        )
    return download_bundle(
        url or OFFICIAL_URL,
        expected,
        final,
        size=OFFICIAL_SIZE,
        what="MediaPipe hand model",
        env_var=ENV_VAR,
        check=check_hand_bundle,
        progress=progress,
        should_cancel=should_cancel,
    )
