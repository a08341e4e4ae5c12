"""PyAV backend of inference.video: opening, probing and the two decode loops (events, see types.py).

Why two loops: in an ISO-BMFF file (mp4/mov, what phones and most tools write) every packet carries a
reliable pts, so the display index and timestamp of every frame are known from the demuxer alone. That lets
us tell FFmpeg to drop non-reference frames that are not key-frames (B-frames that nothing else predicts
from) before they are decoded. Elsewhere (mkv, avi, raw streams) we decode everything in output order.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

from ..errors import VideoError
from .types import Corrupt, Event, KeyFrame, Plan, Seen, StreamDamaged, VideoInfo, rotate

# Demuxers whose packets always carry pts (the mp4 index stores them for every sample).
_PTS_FORMATS = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
# More packets than any B-frame reorder depth (x264/x265 allow 16): a frame's display index is known once
# this many later packets have been demuxed.
_REORDER_WINDOW = 48


def open_container(path: Path) -> tuple[Any, Any]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        hint = "it is not a video FFmpeg can read"
        if isinstance(e, av.error.InvalidDataError):
            hint = (
                "its data is invalid: not a video, or a recording that was cut off before the file was "
                "finalised (truncated)"
            )
        raise VideoError(f"Cannot open {path}: {hint} ({e})", path=path) from e
    if not container.streams.video:
        container.close()
        raise VideoError(f"{path} has no video stream (audio-only or not a video file)", path=path)
    stream = container.streams.video[0]
    try:
        ok = stream.codec_context is not None
        reason = ""
    except Exception as e:  # noqa: BLE001 - PyAV raises different types per version
        ok, reason = False, f"({e})"
    if not ok:
        container.close()
        raise VideoError(f"{path}: its video codec is not supported by this FFmpeg build {reason}".strip(), path=path)
    return container, stream


def first_frame_rotation(container: Any, stream: Any, path: Path) -> int:
    """Decode the first frame: proves the codec works and reads the display matrix the decoder attaches."""
    try:
        for frame in container.decode(stream):
            # ffmpeg gives the counter-clockwise angle; we store the clockwise quarter turn to apply.
            return int(round(-(frame.rotation or 0) / 90.0)) % 4 * 90
    except av.FFmpegError as e:
        raise VideoError(
            f"Cannot decode {path}: the first frame is damaged or its codec is unsupported ({e})",
            path=path,
            frames_read=0,
        ) from e
    raise VideoError(f"{path} contains no decodable video frames", path=path, frames_read=0)


def stream_info(path: Path, container: Any, stream: Any, rotation: int) -> VideoInfo:
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


def probe(path: Path) -> VideoInfo:
    container, stream = open_container(path)
    try:
        return stream_info(path, container, stream, first_frame_rotation(container, stream, path))
    finally:
        container.close()


class PyAVSource:
    """A clip opened with PyAV. Re-opens after probing: seeking back to 0 is unreliable."""

    name = "av"

    def __init__(self, path: Path, *, threads: int = 0, skip_unused: bool = True) -> None:
        self.path = path
        self.info = probe(path)
        self._container, self._stream = open_container(path)
        if threads != 1:
            self._stream.thread_type = "AUTO"  # frame + slice threads: decoding frame t+1 overlaps frame t
        self._stream.codec_context.thread_count = max(0, threads)
        pts_indexed = bool(set(self._container.format.name.split(",")) & _PTS_FORMATS)
        self.skipping = pts_indexed and skip_unused

    def events(self, plan: Plan, stop: threading.Event) -> Iterator[Event]:
        if self.skipping:
            return decode_skipping(self._container, self._stream, self.info, plan, stop)
        return decode_in_order(self._container, self._stream, self.info, plan, stop)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


def _check_complete(stream: Any, packets: int, cut: bool, at: int) -> None:
    expected = int(stream.frames or 0)
    if cut or (expected and packets < expected):
        raise StreamDamaged(
            at, f"the file ends after {packets} of {expected} frames" if expected else "the last packet is cut off"
        )


def decode_in_order(container: Any, stream: Any, info: VideoInfo, plan: Plan, stop: threading.Event) -> Iterator[Event]:
    """Decode every frame; the display index is the output order, the time is the frame's pts."""
    tb = float(stream.time_base) if stream.time_base else 0.0
    fps = info.fps or 30.0
    clock = {"t0": None, "last": -math.inf, "count": 0}

    def handle(frame: Any) -> Iterator[Event]:
        t = clock["count"]
        clock["count"] = t + 1
        pts = frame.pts if frame.pts is not None else frame.dts
        if pts is not None and tb:
            if clock["t0"] is None:
                clock["t0"] = pts * tb
            sec = pts * tb - clock["t0"]
            if sec <= clock["last"]:  # broken or missing pts: keep time strictly increasing
                sec = clock["last"] + 1.0 / fps
        else:
            sec = (clock["last"] + 1.0 / fps) if t > 0 else 0.0
        clock["last"] = sec
        if frame.is_corrupt:
            yield Corrupt(t)
        yield Seen(t, sec)
        if plan.wants(t):
            yield KeyFrame(t, sec, rotate(frame.to_ndarray(format="rgb24"), info.rotation))

    def finished() -> bool:
        return plan.stop is not None and clock["count"] >= plan.stop

    packets, cut = 0, False
    try:
        for packet in container.demux(stream):
            if packet.size:
                packets += 1
                cut |= packet.is_corrupt
            for frame in packet.decode():
                if stop.is_set():
                    return
                yield from handle(frame)
                if finished():
                    return
    except av.FFmpegError as e:
        error = e
    else:
        _check_complete(stream, packets, cut, clock["count"])
        return
    try:  # frames decoded before the damage may still sit in the decoder's threads: get them out
        for frame in stream.decode(None):
            yield from handle(frame)
            if finished():
                break
    except av.FFmpegError:
        pass
    raise StreamDamaged(clock["count"], error) from error


def decode_skipping(container: Any, stream: Any, info: VideoInfo, plan: Plan, stop: threading.Event) -> Iterator[Event]:
    """Index frames by pts from the demuxer and let FFmpeg skip non-reference frames nobody will look at.

    Packets wait in a short queue until their display index is known (all packets with a smaller pts have
    been demuxed: guaranteed once _REORDER_WINDOW later packets are in), then go to the decoder with
    skip_frame=NONREF unless they are key-frames. Reference frames are always decoded, so key-frames are
    bit-identical to a full decode.
    """
    ctx = stream.codec_context
    tb = float(stream.time_base)
    heap: list[int] = []  # demuxed pts still without an index
    waiting: deque = deque()  # packets in decode order, not yet sent
    index_of: dict[int, int] = {}  # pts -> display index, until the frame is output or passed
    assigned: deque = deque()  # (index, pts) in display order, to forget skipped frames
    state = {"next": 0, "t0": None, "yielded_last": -1}
    last_key = plan.last_key

    def assign(pts: int) -> Seen:
        t = state["next"]
        state["next"] = t + 1
        if state["t0"] is None:
            state["t0"] = pts
        index_of[pts] = t
        assigned.append((t, pts))
        return Seen(t, (pts - state["t0"]) * tb)

    def send(packet: Any) -> Iterator[Event]:
        t = index_of.get(packet.pts) if packet is not None else None
        ctx.skip_frame = "DEFAULT" if (t is None or plan.wants(t)) else "NONREF"
        for frame in ctx.decode(packet):
            k = index_of.pop(frame.pts, None)
            if k is None:
                continue
            while assigned and assigned[0][0] <= k:  # output is in display order: earlier ones are done
                index_of.pop(assigned.popleft()[1], None)
            if frame.is_corrupt:
                yield Corrupt(k)
            if plan.wants(k):
                state["yielded_last"] = k
                yield KeyFrame(
                    k, (frame.pts - state["t0"]) * tb, rotate(frame.to_ndarray(format="rgb24"), info.rotation)
                )

    def done() -> bool:
        return last_key is not None and state["yielded_last"] >= last_key and state["next"] >= plan.stop

    packets, cut = 0, False
    try:
        for packet in container.demux(stream):
            if stop.is_set():
                return
            if packet.size == 0:
                continue
            packets += 1
            cut |= packet.is_corrupt
            if packet.pts is None:
                raise StreamDamaged(state["next"], "a packet has no timestamp")
            if not packet.is_discard:  # edit-list pre-roll: decoded as a reference, never shown
                heapq.heappush(heap, packet.pts)
            waiting.append(packet)
            while len(heap) > _REORDER_WINDOW:
                yield assign(heapq.heappop(heap))
            while waiting and (waiting[0].is_discard or waiting[0].pts in index_of):
                yield from send(waiting.popleft())
                if done():
                    return
        while heap:
            yield assign(heapq.heappop(heap))
        while waiting:
            yield from send(waiting.popleft())
        ctx.skip_frame = "DEFAULT"
        yield from send(None)  # flush the frames the decoder still holds
    except av.FFmpegError as e:
        error = e
    else:
        _check_complete(stream, packets, cut, state["next"])
        return
    try:  # frames decoded before the damage may still sit in the decoder's threads: get them out
        ctx.skip_frame = "DEFAULT"
        yield from send(None)
    except av.FFmpegError:
        pass
    # Everything not yet output (in flight, waiting, or skipped) counts as lost: conservative, never wrong.
    raise StreamDamaged(min(index_of.values(), default=state["next"]), error) from error
