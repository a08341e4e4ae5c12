"""Stream a clip and hand out every stride-th frame as RGB, never holding the clip in memory.

Why PyAV first: it gives per-frame pts (variable frame rate), the display matrix (portrait phone clips),
frame-threaded decoding, and lets us skip the colour conversion of frames nobody looks at; decoding a
skipped frame costs only the codec itself. OpenCV is the fallback when PyAV is missing (e.g. an add-on
install without the wheel) or cannot open the file.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import numpy as np

from .errors import VideoError

try:  # PyAV is preferred; the OpenCV path covers installs without it.
    import av
except ImportError:  # pragma: no cover - exercised only where av is absent
    av = None


@dataclass(frozen=True)
class VideoInfo:
    """What a user's clip is, as it will be delivered (display size, i.e. after rotation)."""

    path: Path
    width: int
    height: int
    fps: float  # average frame rate
    frame_count: int  # container estimate; the exact count is known after a full pass
    rotation: int  # clockwise degrees applied to reach display orientation (0/90/180/270)
    duration: float  # seconds
    codec: str


class KeyFrame(NamedTuple):
    index: int  # frame index in the whole clip (0 = first frame)
    timestamp: float  # seconds from the first frame
    image: np.ndarray  # RGB uint8 HxWx3, rotation applied, C-contiguous


def video_error(message: str, path: Path, frames_read: int | None = None) -> VideoError:
    """A VideoError that also carries the file and how many frames were decoded before the problem."""
    err = VideoError(message)
    err.path = path  # type: ignore[attr-defined]
    err.frames_read = frames_read  # type: ignore[attr-defined]
    return err


def rotate(image: np.ndarray, clockwise: int) -> np.ndarray:
    """Rotate clockwise by a multiple of 90 degrees and return a C-contiguous array."""
    if clockwise:
        image = np.rot90(image, k=-(clockwise // 90))
    return np.ascontiguousarray(image)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise video_error(f"Video file not found: {path}", path)
    if path.is_dir():
        raise video_error(f"{path} is a folder, not a video file", path)
    if path.stat().st_size == 0:
        raise video_error(f"{path} is empty (0 bytes): re-export or re-copy the clip", path)


def _cv_probe_or_none(path: Path) -> VideoInfo | None:
    try:
        from . import video_cv

        return video_cv.probe(path)
    except (VideoError, ImportError):
        return None


def probe(path: str | Path) -> VideoInfo:
    """Describe a clip (display size after rotation, fps, frame count estimate) by decoding one frame."""
    path = Path(path)
    _check_file(path)
    if av is None:
        from . import video_cv

        return video_cv.probe(path)
    from . import video_av

    try:
        return video_av.probe(path)
    except VideoError:
        info = _cv_probe_or_none(path)
        if info is None:
            raise
        return info


# ---------------------------------------------------------------------------------------------------------
# Reader
# ---------------------------------------------------------------------------------------------------------

_DONE = object()


class KeyFrameReader:
    """Iterate the key-frames t (start <= t < stop, (t - start) % stride == 0) of a clip, streaming.

    Every frame is decoded (inter-coded video needs it) but only key-frames are converted to RGB and
    rotated. `timestamps` holds the pts in seconds of every frame decoded so far, index-aligned from
    `start`. With `prefetch` > 0 a worker thread decodes ahead into a bounded queue, so decoding overlaps
    with whatever the caller does with each key-frame (FFmpeg releases the GIL while decoding).
    """

    def __init__(self, path: str | Path, stride: int = 1, *, start: int = 0, stop: int | None = None,
                 prefetch: int = 0, backend: str = "auto", skip_unused: bool = True,
                 threads: int = 0) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if start < 0 or (stop is not None and stop <= start):
            raise ValueError(f"invalid frame range start={start} stop={stop}")
        self.path = Path(path)
        self.stride, self.start, self.stop = int(stride), int(start), stop
        self.prefetch = int(prefetch)
        self.skip_unused = skip_unused
        self.threads = int(threads)  # decoder threads; 0 = FFmpeg's choice (one per core)
        self._pts_indexed = False
        self.timestamps: list[float] = []
        self.frames_read = 0  # frames decoded from the clip's first frame on (including those before start)
        self.corrupt_frames: list[int] = []  # frames FFmpeg decoded but flagged as damaged (concealed)
        self._container: Any = None
        self._cap: Any = None
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue | None = None
        self._iter: Iterator[KeyFrame] | None = None
        _check_file(self.path)
        use_av = av is not None and backend in ("auto", "av")
        if backend == "opencv" or not use_av:
            self._open_cv()
        else:
            try:
                self._open_av()
            except VideoError:
                if backend == "av" or _cv_probe_or_none(self.path) is None:
                    raise
                self._open_cv()

    # -- opening -------------------------------------------------------------------------------------
    def _open_av(self) -> None:
        from . import video_av

        self._container, self._stream, self.info, self._pts_indexed = video_av.open_for_reading(
            self.path, self.threads)
        self.backend = "av"

    def _open_cv(self) -> None:
        from . import video_cv

        self.info = video_cv.probe(self.path)
        self._cap = video_cv.open_capture(self.path)
        self.backend = "opencv"

    # -- iteration -----------------------------------------------------------------------------------
    def _want(self, t: int) -> bool:
        return t >= self.start and (t - self.start) % self.stride == 0

    def _generate(self) -> Iterator[KeyFrame]:
        if self.backend == "opencv":
            from . import video_cv

            return video_cv.decode(self, self._cap)
        from . import video_av

        if self._pts_indexed and self.skip_unused:
            return video_av.decode_skipping(self, self._container, self._stream)
        return video_av.decode_in_order(self, self._container, self._stream)

    def _fail(self, t: int, cause: BaseException | str) -> VideoError:
        ts = f" ({self.timestamps[-1]:.2f} s)" if self.timestamps else ""
        return video_error(
            f"{self.path}: the video is damaged or truncated at frame {t}{ts}: {cause}. "
            f"The {max(0, t - self.start)} frames before it were kept; re-export the clip to use the rest.",
            self.path, t)

    def _worker(self) -> None:
        assert self._queue is not None
        try:
            for item in self._generate():
                while not self._stop_event.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop_event.is_set():
                    return
            self._queue.put(_DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer thread
            self._queue.put(e)

    def __iter__(self) -> Iterator[KeyFrame]:
        """One pass over the clip: iterating again continues where the last loop stopped."""
        if self._iter is None:
            self._iter = self._iterate()
        return self._iter

    def _iterate(self) -> Iterator[KeyFrame]:
        if self.prefetch <= 0:
            yield from self._generate()
            return
        self._queue = queue.Queue(maxsize=self.prefetch)
        self._thread = threading.Thread(target=self._worker, name="uplift-video-decode", daemon=True)
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    # -- lifetime ------------------------------------------------------------------------------------
    def close(self) -> None:
        self._stop_event.set()
        if self._thread is not None:
            while self._thread.is_alive():
                try:  # unblock a worker waiting on a full queue
                    self._queue.get_nowait()  # type: ignore[union-attr]
                except queue.Empty:
                    pass
                self._thread.join(timeout=0.05)
            self._thread = None
        if self._container is not None:
            self._container.close()
            self._container = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> "KeyFrameReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
