"""Stream a clip and hand out every stride-th frame as RGB, never holding the clip in memory.

Why PyAV first: it gives per-frame pts (variable frame rate), the display matrix (portrait phone clips),
frame-threaded decoding, and lets us skip the colour conversion of frames nobody looks at; decoding a
skipped frame costs only the codec itself. OpenCV is the fallback when PyAV is missing (e.g. an add-on
install without the wheel) or cannot open the file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import VideoError
from .types import Corrupt, KeyFrame, Plan, Seen, Source, StreamDamaged, VideoInfo, check_file

try:  # PyAV is preferred; the OpenCV path covers installs without it.
    from . import pyav
except ImportError:  # pragma: no cover - exercised only where av is absent
    pyav = None  # type: ignore[assignment]

BACKENDS = ("auto", "av", "opencv")


def _opencv():  # imported on demand: cv2 is heavy and only the fallback
    from . import opencv

    return opencv


def _cv_probe_or_none(path: Path) -> VideoInfo | None:
    try:
        return _opencv().probe(path)
    except (VideoError, ImportError):
        return None


def probe(path: str | Path) -> VideoInfo:
    """Describe a clip (display size after rotation, fps, frame count estimate) by decoding one frame."""
    path = Path(path)
    check_file(path)
    if pyav is None:
        return _opencv().probe(path)
    try:
        return pyav.probe(path)
    except VideoError:
        info = _cv_probe_or_none(path)
        if info is None:
            raise
        return info


def open_source(path: Path, backend: str = "auto", *, threads: int = 0, skip_unused: bool = True) -> Source:
    """The backend that can read `path`: PyAV unless it is missing or fails where OpenCV succeeds."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    check_file(path)
    if backend == "opencv" or pyav is None:
        return _opencv().OpenCVSource(path)
    try:
        return pyav.PyAVSource(path, threads=threads, skip_unused=skip_unused)
    except VideoError:
        if backend == "av" or _cv_probe_or_none(path) is None:
            raise
        return _opencv().OpenCVSource(path)


_DONE = object()


class KeyFrameReader:
    """Iterate the key-frames t (start <= t < stop, (t - start) % stride == 0) of a clip, streaming.

    `frames` (clip frame indices) replaces the stride: exactly those frames are handed out, and decoding
    stops after the last one (a refining pass that fetches only what an earlier pass asked for).
    Every frame is decoded (inter-coded video needs it) but only key-frames are converted to RGB and
    rotated. `timestamps` holds the pts in seconds of every frame decoded so far, index-aligned from
    `start`. With `prefetch` > 0 a worker thread decodes ahead into a bounded queue, so decoding overlaps
    with whatever the caller does with each key-frame (FFmpeg releases the GIL while decoding).
    """

    def __init__(
        self,
        path: str | Path,
        stride: int = 1,
        *,
        start: int = 0,
        stop: int | None = None,
        frames: Iterable[int] | None = None,
        prefetch: int = 0,
        backend: str = "auto",
        skip_unused: bool = True,
        threads: int = 0,
    ) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if start < 0 or (stop is not None and stop <= start):
            raise ValueError(f"invalid frame range start={start} stop={stop}")
        wanted = None
        if frames is not None:
            wanted = frozenset(int(t) for t in frames if int(t) >= start and (stop is None or int(t) < stop))
            if not wanted:
                raise ValueError("frames: no wanted frame inside the range")
            stop = max(wanted) + 1  # nothing after the last wanted frame needs decoding
        self.path = Path(path)
        self.plan = Plan(int(start), None if stop is None else int(stop), int(stride), wanted)
        self.stride, self.start, self.stop = self.plan.stride, self.plan.start, self.plan.stop
        self.prefetch = int(prefetch)
        self.timestamps: list[float] = []  # seconds of every frame in [start, stop) seen so far
        self.frames_read = 0  # frames decoded from the clip's first frame on (including those before start)
        self.corrupt_frames: list[int] = []  # frames FFmpeg decoded but flagged as damaged (concealed)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: queue.Queue | None = None
        self._iter: Iterator[KeyFrame] | None = None
        self._source: Source | None = open_source(self.path, backend, threads=int(threads), skip_unused=skip_unused)
        self.info: VideoInfo = self._source.info
        self.backend: str = self._source.name
        # True where the backend indexes frames by pts and lets FFmpeg skip frames nobody looks at
        self.skipping: bool = bool(getattr(self._source, "skipping", False))

    # -- the books -------------------------------------------------------------------------------------
    def _generate(self) -> Iterator[KeyFrame]:
        assert self._source is not None
        plan = self.plan
        try:
            for ev in self._source.events(plan, self._stop_event):
                if isinstance(ev, Seen):
                    if plan.stop is None or ev.index < plan.stop:
                        self.frames_read = ev.index + 1
                    if plan.in_range(ev.index):
                        self.timestamps.append(ev.seconds)
                elif isinstance(ev, Corrupt):
                    self.corrupt_frames.append(ev.index)
                else:
                    yield ev
        except StreamDamaged as damaged:
            raise self._damaged(damaged) from damaged.__cause__

    def _damaged(self, damaged: StreamDamaged) -> VideoError:
        """Keep the books up to the last good frame and say what was kept."""
        t = damaged.first_lost
        del self.timestamps[max(0, t - self.start) :]
        self.frames_read = min(self.frames_read, t)
        ts = f" ({self.timestamps[-1]:.2f} s)" if self.timestamps else ""
        return VideoError(
            f"{self.path}: the video is damaged or truncated at frame {t}{ts}: {damaged.cause}. "
            f"The {max(0, t - self.start)} frames before it were kept; re-export the clip to use the rest.",
            path=self.path,
            frames_read=t,
        )

    # -- iteration -----------------------------------------------------------------------------------
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
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> KeyFrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to report to
            pass
