"""Find (or, only when asked, download) the MediaPipe PoseLandmarker `.task` bundle.

Resolution order for `resolve_pose_model("full")` (or "lite" / "heavy"):
    1. an explicit path (anything that is not a variant name) - used as-is;
    2. env `UPLIFT_POSE_MODEL`: a `.task` file, or a folder holding `pose_landmarker_<variant>.task`;
    3. the cache folder: `cache_dir=` (Blender passes its extension user folder), else
       `default_cache_dir()` (e.g. ~/.cache/uplift-mocap/mediapipe/);
    4. a download of Google's official bundle into the cache - only with `allow_download=True` or
       `python -m inference fetch-model`, checked against the pinned sha256 and written atomically.
Never downloads silently: without permission (or offline) it raises PoseModelError saying where to put
the file. A file found locally is checked to be a PoseLandmarker bundle (a zip holding the detector and
the landmark model) but not hashed: re-packed copies of the same weights (like ../shared/models) are fine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import PoseModelError

ENV_VAR = "UPLIFT_POSE_MODEL"
CACHE_ENV_VAR = "UPLIFT_CACHE_DIR"
BUNDLE_MEMBERS = ("pose_detector.tflite", "pose_landmarks_detector.tflite")
_BASE_URL = "https://storage.googleapis.com/mediapipe-models/pose_landmarker"


@dataclass(frozen=True)
class ModelSpec:
    variant: str
    url: str
    sha256: str  # of Google's official float16 v1 bundle
    size: int  # bytes of that bundle

    @property
    def filename(self) -> str:
        return f"pose_landmarker_{self.variant}.task"


def _spec(variant: str, sha256: str, size: int) -> ModelSpec:
    return ModelSpec(
        variant, f"{_BASE_URL}/pose_landmarker_{variant}/float16/1/pose_landmarker_{variant}.task", sha256, size
    )


# Official bundles (version-pinned "/1/" URLs). full: ../shared/models/README.md; lite and heavy: the same
# hashes and sizes are pinned independently by several public projects that download these URLs.
VARIANTS: dict[str, ModelSpec] = {
    "lite": _spec("lite", "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a", 5_777_746),
    "full": _spec("full", "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1", 9_398_198),
    "heavy": _spec("heavy", "64437af838a65d18e5ba7a0d39b465540069bc8aae8308de3e318aad31fcbc7b", 30_664_242),
}


def default_cache_dir() -> Path:
    """Per-user cache folder for model bundles outside Blender (platform convention; `UPLIFT_CACHE_DIR`
    overrides). Inside Blender the add-on passes its own `extension_path_user` folder instead."""
    if os.environ.get(CACHE_ENV_VAR):
        base = Path(os.environ[CACHE_ENV_VAR]).expanduser()
    elif sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "uplift-mocap"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches" / "uplift-mocap"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uplift-mocap"
    return base / "mediapipe"


def check_task_bundle(path: Path, kind: str, members: tuple[str, ...], replace_with: str) -> Path:
    """Raise PoseModelError unless `path` is a readable MediaPipe `kind` .task bundle holding `members`
    (catches HTML error pages, truncated downloads and other models before MediaPipe fails on them with an
    opaque message). Shared by the pose and the hand bundle."""
    path = Path(path)
    if not path.is_file():
        raise PoseModelError(f"MediaPipe {kind.lower()} model not found: {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise PoseModelError(
            f"{path} is not a MediaPipe {kind}Landmarker .task bundle ({exc}); replace it with {replace_with}"
        ) from None
    missing = [m for m in members if m not in names]
    if missing:
        raise PoseModelError(f"{path} is not a {kind}Landmarker bundle: it lacks {', '.join(missing)}")
    return path


def check_bundle(path: Path) -> Path:
    """Raise PoseModelError unless `path` is a readable PoseLandmarker bundle."""
    return check_task_bundle(path, "Pose", BUNDLE_MEMBERS, f"the official file ({VARIANTS['full'].url})")


def _candidates(variant: str, cache: Path) -> list[Path]:
    """Where a variant is looked for, in order (env var first, then the cache folder)."""
    out: list[Path] = []
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        p = Path(env).expanduser()
        out.append(p if p.suffix == ".task" else p / VARIANTS[variant].filename)
    out.append(cache / VARIANTS[variant].filename)
    return out


def _not_found_message(variant: str, looked: list[Path], cache: Path) -> str:
    spec = VARIANTS[variant]
    return (
        f"MediaPipe pose model '{variant}' not found (looked in: {', '.join(map(str, looked))}). "
        f"Download {spec.url} and put it at {cache / spec.filename}, or point {ENV_VAR} at the "
        f"file or its folder, or run `python -m inference fetch-model {variant}` to download it "
        f"(sha256-checked)."
    )


def resolve_pose_model(
    model: str | os.PathLike = "full",
    *,
    allow_download: bool = False,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Path:
    """Path of a usable `.task` bundle for a variant name ("lite", "full", "heavy") or an explicit path.

    cache_dir: where downloaded bundles live (default `default_cache_dir()`)."""
    if isinstance(model, os.PathLike) or str(model) not in VARIANTS:
        path = Path(model).expanduser()
        if not path.exists():
            hint = "" if str(model).endswith(".task") else f" (or one of {', '.join(VARIANTS)})"
            raise PoseModelError(
                f"MediaPipe pose model file not found: {path}; give the path of a pose_landmarker_*.task bundle{hint}"
            )
        if path.is_dir():
            raise PoseModelError(
                f"{path} is a folder; give a pose_landmarker_*.task file, or set "
                f"{ENV_VAR}={path} and choose a variant (lite/full/heavy)"
            )
        return check_bundle(path)
    variant = str(model)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    looked = _candidates(variant, cache)
    for path in looked:
        if path.is_file():
            return check_bundle(path)
    if not allow_download:
        raise PoseModelError(_not_found_message(variant, looked, cache))
    return fetch_pose_model(variant, cache, progress=progress, should_cancel=should_cancel)


def fetch_pose_model(
    variant: str = "full",
    dest_dir: Path | None = None,
    *,
    url: str | None = None,
    sha256: str | None = None,
    timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Path:
    """Download a bundle into `dest_dir` (default: the cache), verify its sha256, then move it in place.

    `url` / `sha256` override the official ones (a mirror); the file only appears if the hash matches.
    `should_cancel` is polled between chunks (a UI's Cancel); cancelling leaves nothing behind.
    """
    spec = VARIANTS[variant]
    return download_bundle(
        url or spec.url,
        (sha256 or spec.sha256),
        (Path(dest_dir) if dest_dir else default_cache_dir()) / spec.filename,
        size=spec.size,
        what="MediaPipe pose model",
        env_var=ENV_VAR,
        check=check_bundle,
        timeout=timeout,
        progress=progress,
        should_cancel=should_cancel,
    )


def download_bundle(
    url: str,
    sha256: str,
    final: Path,
    *,
    size: int,
    what: str,
    env_var: str,
    check: Callable[[Path], Path],
    timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Path:
    """Download `url` to `final` through a temporary file: it only appears if its sha256 is `sha256` and
    `check` accepts it. Shared by the pose and hand bundles (one place for the atomic, hashed download)."""
    expected = sha256.lower()
    dest_dir = final.parent
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PoseModelError(f"cannot create the model folder {dest_dir}: {exc}") from None
    digest = hashlib.sha256()
    tmp = tempfile.NamedTemporaryFile(dir=dest_dir, prefix=final.name + ".", suffix=".part", delete=False)
    try:
        with tmp:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(resp.headers.get("Content-Length") or 0) or size
                    done = 0
                    while chunk := resp.read(1 << 16):
                        if should_cancel is not None and should_cancel():
                            raise PoseModelError(f"download of the {what} cancelled; nothing saved")
                        tmp.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                raise PoseModelError(
                    f"could not download the {what} from {url} ({reason}). If this machine is "
                    f"offline, download that file elsewhere and put it at {final}, or point {env_var} at it."
                ) from None
        got = digest.hexdigest()
        if got != expected:
            raise PoseModelError(
                f"downloaded {what.removeprefix('MediaPipe ')} from {url} has sha256 {got}, expected {expected}: "
                f"not saved (corrupt or tampered download; try again or fetch it by hand "
                f"and put it at {final})"
            )
        check(Path(tmp.name))
        os.replace(tmp.name, final)
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)
    return final


def main(argv: list[str] | None = None) -> int:
    """`python -m inference fetch-model [lite|full|heavy]`: locate the bundle, downloading it if missing."""
    ap = argparse.ArgumentParser(prog="python -m inference fetch-model", description=main.__doc__)
    ap.add_argument("variant", nargs="?", default="full", choices=sorted(VARIANTS))
    ap.add_argument("--dest", type=Path, help=f"folder to download into (default {default_cache_dir()})")
    ap.add_argument("--url", help="download from this mirror instead of Google's model storage")
    ap.add_argument("--sha256", help="expected sha256 when --url serves a different build")
    ap.add_argument("--where", action="store_true", help="only print where the bundle is (never download)")
    ap.add_argument("--force", action="store_true", help="download even if a bundle is already found")
    args = ap.parse_args(argv)
    try:
        if not args.force and not (args.dest or args.url):
            try:
                print(resolve_pose_model(args.variant))
                return 0
            except PoseModelError:
                if args.where:
                    raise
        elif args.where:
            print(resolve_pose_model(args.variant))
            return 0

        def bar(done: int, total: int) -> None:
            print(
                f"\rdownloading {VARIANTS[args.variant].filename}: {done / 1e6:.1f}/{total / 1e6:.1f} MB",
                end="",
                file=sys.stderr,
                flush=True,
            )

        path = fetch_pose_model(args.variant, args.dest, url=args.url, sha256=args.sha256, progress=bar)
        print(file=sys.stderr)
        print(path)
        return 0
    except PoseModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
