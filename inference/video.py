"""Stream a clip and hand out every stride-th frame as RGB, never holding the clip in memory.

Why PyAV first: it gives per-frame pts (variable frame rate), the display matrix (portrait phone clips),
frame-threaded decoding, and lets us skip the colour conversion of frames nobody looks at; decoding a
skipped frame costs only the codec itself. OpenCV is the fallback when PyAV is missing (e.g. an add-on
install without the wheel) or cannot open the file.
"""
from __future__ import annotations

import math
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


def _video_error(message: str, path: Path, frames_read: int | None = None) -> VideoError:
    err = VideoError(message)
    err.path = path  # type: ignore[attr-defined]
    err.frames_read = frames_read  # type: ignore[attr-defined]
    return err


def _check_file(path: Path) -> None:
    if not path.exists():
        raise _video_error(f"Video file not found: {path}", path)
    if path.is_dir():
        raise _video_error(f"{path} is a folder, not a video file", path)
    if path.stat().st_size == 0:
        raise _video_error(f"{path} is empty (0 bytes): re-export or re-copy the clip", path)


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate clockwise by `rotation` degrees and return a C-contiguous array."""
    if rotation:
        image = np.rot90(image, k=-(rotation // 90))
    return np.ascontiguousarray(image)


def _clockwise(ccw_degrees: float) -> int:
    """ffmpeg reports the display matrix as a counter-clockwise angle; snap it to a clockwise quarter turn."""
    return int(round(-ccw_degrees / 90.0)) % 4 * 90


# ---------------------------------------------------------------------------------------------------------
# PyAV backend
# ---------------------------------------------------------------------------------------------------------

def _av_open(path: Path) -> tuple[Any, Any]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        text = str(e)
        hint = "it is not a video FFmpeg can read"
        if isinstance(e, av.error.InvalidDataError):
            hint = ("its data is invalid: not a video, or a recording that was cut off before the file was "
                    "finalised (truncated)")
        raise _video_error(f"Cannot open {path}: {hint} ({text})", path) from e
    if not container.streams.video:
        container.close()
        raise _video_error(f"{path} has no video stream (audio-only or not a video file)", path)
    stream = container.streams.video[0]
    try:
        ctx = stream.codec_context
    except Exception as e:  # noqa: BLE001 - PyAV raises different types per version
        ctx = None
        reason = str(e)
    else:
        reason = ""
    if ctx is None:
        container.close()
        raise _video_error(f"{path}: the video codec is not supported by this FFmpeg build {reason}".strip(), path)
    return container, stream


def _av_info(path: Path, container: Any, stream: Any, rotation: int) -> VideoInfo:
    ctx = stream.codec_context
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    duration = 0.0
    if stream.duration is not None and stream.time_base:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    frame_count = int(stream.frames or 0)
    if frame_count <= 0 and fps > 0 and duration > 0:
        frame_count = int(round(duration * fps))
    if fps <= 0 and frame_count > 0 and duration > 0:
        fps = frame_count / duration
    w, h = int(ctx.width), int(ctx.height)
    if rotation in (90, 270):
        w, h = h, w
    return VideoInfo(Path(path), w, h, fps, frame_count, rotation, duration, str(ctx.name))


def _first_frame_rotation(container: Any, stream: Any, path: Path) -> int:
    """Decode the first frame: proves the codec works and reads the display matrix the decoder attaches."""
    try:
        for frame in container.decode(stream):
            return _clockwise(frame.rotation or 0)
    except av.FFmpegError as e:
        raise _video_error(f"Cannot decode {path}: the first frame is damaged or the codec is unsupported ({e})",
                           path, 0) from e
    raise _video_error(f"{path} contains no decodable video frames", path, 0)


def probe(path: str | Path) -> VideoInfo:
    """Describe a clip (size after rotation, fps, frame count estimate) without decoding it all."""
    path = Path(path)
    _check_file(path)
    if av is None:
        return _cv_probe(path)
    try:
        container, stream = _av_open(path)
    except VideoError:
        info = _cv_probe_or_none(path)
        if info is None:
            raise
        return info
    try:
        rotation = _first_frame_rotation(container, stream, path)
        return _av_info(path, container, stream, rotation)
    finally:
        container.close()


# ---------------------------------------------------------------------------------------------------------
# OpenCV fallback (no per-frame pts guarantees: it reports CAP_PROP_POS_MSEC, which FFmpeg fills from pts)
# ---------------------------------------------------------------------------------------------------------

def _cv_open(path: Path) -> Any:
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise _video_error(f"Cannot open {path}: it is not a video OpenCV/FFmpeg can read", path)
    return cap


def _cv_probe_or_none(path: Path) -> VideoInfo | None:
    try:
        return _cv_probe(path)
    except (VideoError, ImportError):
        return None


def _cv_probe(path: Path) -> VideoInfo:
    import cv2

    cap = _cv_open(path)
    try:
        ok, frame = cap.read()
        if not ok:
            raise _video_error(f"{path} contains no decodable video frames", path, 0)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        rot = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ") or "unknown"
        h, w = frame.shape[:2]  # OpenCV auto-rotates, so this is already the display size
        return VideoInfo(path, w, h, fps, n, rot, n / fps if fps > 0 else 0.0, codec)
    finally:
        cap.release()


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
                 prefetch: int = 0, backend: str = "auto") -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        if start < 0 or (stop is not None and stop <= start):
            raise ValueError(f"invalid frame range start={start} stop={stop}")
        self.path = Path(path)
        self.stride, self.start, self.stop = int(stride), int(start), stop
        self.prefetch = int(prefetch)
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
        container, stream = _av_open(self.path)
        try:
            rotation = _first_frame_rotation(container, stream, self.path)
            self.info = _av_info(self.path, container, stream, rotation)
        finally:
            container.close()
        # Re-open rather than seek back: seeking to 0 is unreliable on some containers (edit lists, mkv).
        container, stream = _av_open(self.path)
        stream.thread_type = "AUTO"  # frame + slice threads: decode of frame t+1 overlaps frame t
        self._container, self._stream = container, stream
        self.backend = "av"

    def _open_cv(self) -> None:
        self.info = _cv_probe(self.path)
        self._cap = _cv_open(self.path)
        self.backend = "opencv"

    # -- iteration -----------------------------------------------------------------------------------
    def _want(self, t: int) -> bool:
        return t >= self.start and (t - self.start) % self.stride == 0

    def _generate(self) -> Iterator[KeyFrame]:
        gen = self._generate_av() if self.backend == "av" else self._generate_cv()
        yield from gen

    def _fail(self, t: int, cause: BaseException | str) -> VideoError:
        ts = f" ({self.timestamps[-1]:.2f} s)" if self.timestamps else ""
        return _video_error(
            f"{self.path}: the video is damaged or truncated at frame {t}{ts}: {cause}. "
            f"The {t - min(t, self.start)} frames before it were kept; re-export the clip to use the rest.",
            self.path, self.frames_read)

    def _generate_av(self) -> Iterator[KeyFrame]:
        stream, container = self._stream, self._container
        tb = float(stream.time_base) if stream.time_base else 0.0
        rotation = self.info.rotation
        fps = self.info.fps or 30.0
        t0: float | None = None
        last = -math.inf
        packets = 0
        corrupt_packet = False
        t = 0
        stop = self.stop
        try:
            for packet in container.demux(stream):
                if packet.size:
                    packets += 1
                    corrupt_packet |= packet.is_corrupt
                for frame in packet.decode():
                    if self._stop_event.is_set():
                        return
                    t = self.frames_read
                    self.frames_read += 1
                    pts = frame.pts if frame.pts is not None else frame.dts
                    if pts is not None and tb:
                        sec = pts * tb
                        if t0 is None:
                            t0 = sec
                        sec -= t0
                        if sec <= last:  # broken or missing pts: keep time strictly increasing
                            sec = last + 1.0 / fps
                    else:
                        sec = (last + 1.0 / fps) if t > 0 else 0.0
                    last = sec
                    if frame.is_corrupt:
                        self.corrupt_frames.append(t)
                    if t < self.start:
                        continue
                    self.timestamps.append(sec)
                    if self._want(t):
                        image = _rotate(frame.to_ndarray(format="rgb24"), rotation)
                        yield KeyFrame(t, sec, image)
                    if stop is not None and t + 1 >= stop:
                        return
        except av.FFmpegError as e:
            raise self._fail(self.frames_read, e) from e
        expected = int(stream.frames or 0)
        if corrupt_packet or (expected and packets < expected):
            raise self._fail(self.frames_read, f"the file ends after {packets} of {expected} frames"
                             if expected else "the last packet is cut off")

    def _generate_cv(self) -> Iterator[KeyFrame]:
        import cv2

        cap = self._cap
        fps = self.info.fps or 30.0
        last = -math.inf
        stop = self.stop
        while not self._stop_event.is_set():
            t = self.frames_read
            if not cap.grab():
                break
            self.frames_read += 1
            sec = float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
            if not math.isfinite(sec) or sec <= last:
                sec = (last + 1.0 / fps) if t > 0 else 0.0
            last = sec
            if t < self.start:
                continue
            self.timestamps.append(sec)
            if self._want(t):
                ok, bgr = cap.retrieve()
                if not ok:
                    raise self._fail(t, "OpenCV could not decode the frame")
                yield KeyFrame(t, sec, np.ascontiguousarray(bgr[:, :, ::-1]))
            if stop is not None and t + 1 >= stop:
                return
        n = self.info.frame_count
        if n and self.frames_read < n - 1 and not self._stop_event.is_set():
            raise self._fail(self.frames_read, f"the file ends after {self.frames_read} of {n} frames")

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
