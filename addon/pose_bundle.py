"""The add-on's side of MediaPipe's pose bundle: find it, or download it in a worker thread. No bpy here.

Why here and not in inference: where a Blender add-on keeps its files is Blender's business (the
extension's user folder, `prefs.models_dir()`), and inference never imports bpy. So the add-on hands
that folder to inference's resolver (`cache_dir=`) and downloader (`dest_dir`), which keep the search order (explicit
path, $UPLIFT_POSE_MODEL, the folder) and the sha256 check in one place.

`DownloadJob` runs the download in a thread so Blender's UI stays responsive; cancel is checked on every
chunk (the downloader's `should_cancel`), and its own clean-up removes the partial file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._pkgs import inference


def variants() -> tuple[str, ...]:
    return tuple(inference.POSE_MODEL_VARIANTS)


def resolve(spec: str, folder: Path) -> Path:
    """Path of a usable bundle for a variant name or an explicit path; `folder` is where the add-on keeps
    downloaded bundles. Raises inference.PoseModelError (its message says where to put the file)."""
    return Path(inference.resolve_pose_model(spec, allow_download=False, cache_dir=folder))


def fetch(variant: str, folder: Path, progress: Callable[[int, int], None] | None = None, **kwargs: Any) -> Path:
    """Download `variant` into `folder` (sha256-checked, atomic); kwargs go to the downloader (url, sha256)."""
    return Path(inference.fetch_pose_model(variant, folder, progress=progress, **kwargs))


class DownloadJob:
    """One bundle download in a worker thread, with progress (bytes) and cancel, for a modal operator."""

    def __init__(self, variant: str, folder: Path, online: bool, **fetch_kwargs: Any) -> None:
        self.variant, self.folder, self.online = variant, Path(folder), bool(online)
        self.fetch_kwargs = fetch_kwargs  # url / sha256 overrides (a mirror; tests use a local server)
        self.done_bytes = self.total_bytes = 0
        self.path: Path | None = None
        self.error = ""
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """Refuse before starting when Blender may not go online; the message says what to do instead."""
        if not self.online:
            raise PermissionError(
                "Online access is off (Preferences > System > Network). Download the .task "
                "file elsewhere and set Pose Model to it."
            )

    def _progress(self, done: int, total: int) -> None:
        self.done_bytes, self.total_bytes = int(done), int(total)

    def run(self) -> Path | None:
        """Blocking download; returns the bundle's path, or None with `error` set (cancel included)."""
        self.check()
        try:
            self.path = fetch(
                self.variant,
                self.folder,
                progress=self._progress,
                should_cancel=self._cancel.is_set,
                **self.fetch_kwargs,
            )
        except inference.UpliftError as exc:  # the downloader stops between chunks when cancelled
            self.error = "Download cancelled; nothing was saved." if self._cancel.is_set() else str(exc)
        except Exception as exc:  # noqa: BLE001 - shown to the user as text, never crashes the UI thread
            self.error = f"{type(exc).__name__}: {exc}"
        return self.path

    def start(self) -> None:
        self.check()
        self._thread = threading.Thread(target=self.run, name="uplift-model-download", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def fraction(self) -> float:
        return min(self.done_bytes / self.total_bytes, 1.0) if self.total_bytes > 0 else 0.0

    def status_text(self) -> str:
        mb = f"{self.done_bytes / 1e6:.1f}/{self.total_bytes / 1e6:.1f} MB" if self.total_bytes else "connecting"
        return f"Downloading pose model '{self.variant}': {mb}  (Esc to cancel)"
