"""Video key-frame reader on the real shared clips and on clips written here (rotation, VFR, 1 frame)."""

from __future__ import annotations

import shutil
import struct
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import VIDEOS

from inference.video import KeyFrameReader, probe

# Values stated in ../shared/videos/SOURCES.md (size, fps, frames).
EXPECTED = {
    "01_squats_tfjs_720x1280.mp4": (720, 1280, 5.0, 65),
    "02_dance_tfjs_576x576.mp4": (576, 576, 30.0, 120),
    "04_sideview_walk_jump_sports2d_1768x994.mp4": (1768, 994, 30.0, 230),
}
BIG = "04_sideview_walk_jump_sports2d_1768x994.mp4"


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    pts_ms: list[int] | None = None,
    codec: str = "libx264",
    preset: str = "ultrafast",
) -> Path:
    """Encode RGB frames; with pts_ms the clip has exactly those (irregular) timestamps.
    preset "ultrafast" writes no B-frames; "veryfast" writes B-frames with a pyramid (reordered output)."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        s = out.add_stream(codec, rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            s.options = {"preset": preset}
        if pts_ms is not None:
            s.time_base = s.codec_context.time_base = Fraction(1, 1000)
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            if pts_ms is not None:
                f.pts, f.time_base = pts_ms[i], Fraction(1, 1000)
            out.mux(s.encode(f))
        out.mux(s.encode())
    return path


def remux(src: Path, dst: Path, n_packets: int) -> Path:
    """Copy the first packets of a clip into a new mp4 without re-encoding."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        s = inp.streams.video[0]
        o = out.add_stream_from_template(s)
        k = 0
        for pk in inp.demux(s):
            if pk.dts is None:
                continue
            pk.stream = o
            out.mux(pk)
            k += 1
            if k >= n_packets:
                break
    return dst


def set_mp4_rotation(path: Path, clockwise: int) -> None:
    """Write the track display matrix the way phones do (tkhd), e.g. 90 for a portrait phone clip."""
    b = bytearray(path.read_bytes())
    at = b.find(b"tkhd")
    assert at > 0
    version = b[at + 4]
    matrix_at = at + 8 + (32 if version == 1 else 20) + 16
    cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[clockwise]
    one = 1 << 16
    b[matrix_at : matrix_at + 36] = struct.pack(">9i", cos * one, sin * one, 0, -sin * one, cos * one, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(b))


def all_keys(path: Path, stride: int, **kw) -> tuple[list[int], list[float], KeyFrameReader]:
    with KeyFrameReader(path, stride, **kw) as r:
        keys = [k.index for k in r]
    return keys, r.timestamps, r


@pytest.mark.parametrize("clip", VIDEOS, ids=lambda p: p.name)
def test_probe_matches_sources_and_full_decode(clip: Path) -> None:
    info = probe(clip)
    w, h, fps, n = EXPECTED[clip.name]
    assert (info.width, info.height, info.rotation) == (w, h, 0)
    assert info.fps == pytest.approx(fps, rel=1e-3)
    assert info.frame_count == n
    assert info.duration == pytest.approx(n / fps, abs=0.1)
    with KeyFrameReader(clip, stride=50) as r:
        first = next(iter(r))
        assert first.index == 0 and first.timestamp == 0.0
        assert first.image.shape == (h, w, 3) and first.image.dtype == np.uint8
        assert first.image.flags.c_contiguous
        rest = [k.index for k in r]
    assert r.frames_read == len(r.timestamps) == n  # the estimate is the exact count for these clips
    assert [0, *rest] == list(range(0, n, 50))
    ts = np.asarray(r.timestamps)
    assert np.all(np.diff(ts) > 0)
    np.testing.assert_allclose(ts, np.arange(n) / fps, atol=1e-3)


@pytest.mark.parametrize("clip", VIDEOS, ids=lambda p: p.name)
def test_strides_give_same_timeline_and_right_keys(clip: Path) -> None:
    strides = (1, 7, 20) if clip.name == BIG else range(1, 21)
    n = EXPECTED[clip.name][3]
    ref_ts = None
    for s in strides:
        keys, ts, _ = all_keys(clip, s)
        assert keys == list(range(0, n, s)), s
        assert len(ts) == n
        ref_ts = ts if ref_ts is None else ref_ts
        assert ts == ref_ts


def test_key_frames_match_opencv_pixels(videos_dir: Path) -> None:
    """Index alignment and colour order are right: frame 20 equals OpenCV's frame 20 converted BGR->RGB."""
    clip = videos_dir / "02_dance_tfjs_576x576.mp4"
    with KeyFrameReader(clip, stride=20, start=0) as r:
        mine = {k.index: k.image for k in r}
    cap = cv2.VideoCapture(str(clip))
    for t in range(41):
        ok, bgr = cap.read()
        assert ok
        if t in (20, 40):
            diff = np.abs(mine[t].astype(int) - bgr[:, :, ::-1].astype(int))
            assert diff.mean() < 1.0, (t, diff.mean())
    cap.release()
    assert set(mine) == {0, 20, 40, 60, 80, 100}


def test_start_stop_range(videos_dir: Path) -> None:
    clip = videos_dir / "02_dance_tfjs_576x576.mp4"
    _, full_ts, _ = all_keys(clip, 1)
    keys, ts, r = all_keys(clip, 10, start=5, stop=50)
    assert keys == [5, 15, 25, 35, 45]
    assert ts == full_ts[5:50]
    assert r.frames_read == 50  # stops decoding at `stop`


@pytest.mark.parametrize("backend", ["av", "opencv"])
@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_rotation_metadata_is_honoured(tmp_path: Path, videos_dir: Path, clockwise: int, backend: str) -> None:
    plain = remux(videos_dir / BIG, tmp_path / "plain.mp4", 12)
    rotated = tmp_path / f"rot{clockwise}.mp4"
    shutil.copy(plain, rotated)
    set_mp4_rotation(rotated, clockwise)
    info = probe(rotated)
    assert info.rotation == clockwise
    portrait = clockwise in (90, 270)
    assert (info.width, info.height) == ((994, 1768) if portrait else (1768, 994))
    with KeyFrameReader(plain, stride=5) as r:
        base = [k.image for k in r]
    with KeyFrameReader(rotated, stride=5, backend=backend) as r:
        got = [k for k in r]
    assert [k.index for k in got] == [0, 5, 10]
    for b, k in zip(base, got):
        assert k.image.shape == (info.height, info.width, 3) and k.image.flags.c_contiguous
        # OpenCV rotates on its own (auto-orientation): an independent check of the sign convention.
        np.testing.assert_array_equal(k.image, np.rot90(b, k=-clockwise // 90))


@pytest.mark.parametrize("backend", ["av", "opencv"])
def test_variable_frame_rate_timestamps(tmp_path: Path, backend: str) -> None:
    pts = [0, 33, 50, 120, 121, 300, 333, 500, 900, 901, 950, 1400]
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(len(pts))]
    clip = write_clip(tmp_path / "vfr.mp4", frames, pts_ms=pts, preset="veryfast")  # B-frames, reordered
    keys, ts, r = all_keys(clip, 3, backend=backend)
    assert keys == [0, 3, 6, 9]
    np.testing.assert_allclose(ts, np.asarray(pts) / 1000.0, atol=1e-6)
    with KeyFrameReader(clip, 3, backend=backend) as reader:
        grey = [float(k.image.mean()) for k in reader]
    np.testing.assert_allclose(grey, [0, 60, 120, 180], atol=3)  # the right picture for each index


def test_single_frame_clip(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "one.mp4", [np.zeros((32, 48, 3), np.uint8)])
    assert probe(clip).frame_count == 1
    keys, ts, r = all_keys(clip, 10)
    assert keys == [0] and ts == [0.0] and r.frames_read == 1


def test_prefetch_gives_same_frames_and_closes_early(videos_dir: Path) -> None:
    clip = videos_dir / "02_dance_tfjs_576x576.mp4"
    with KeyFrameReader(clip, 7) as r:
        plain = [(k.index, k.timestamp, k.image.sum()) for k in r]
    with KeyFrameReader(clip, 7, prefetch=3) as r:
        ahead = [(k.index, k.timestamp, k.image.sum()) for k in r]
    assert plain == ahead
    r = KeyFrameReader(clip, 1, prefetch=2)
    it = iter(r)
    next(it)
    r.close()  # worker blocked on a full queue must stop
    assert r._thread is None


def _moving_frames(n: int, h: int = 96, w: int = 128) -> list[np.ndarray]:
    """A bright square sliding over noise: content x264 predicts with B-frames (incl. non-reference ones)."""
    rng = np.random.default_rng(1)
    bg = rng.integers(0, 80, (h, w, 3), dtype=np.uint8)
    out = []
    for i in range(n):
        f = bg.copy()
        x = (3 * i) % (w - 16)
        f[20:36, x : x + 16] = 255
        out.append(f)
    return out


@pytest.mark.parametrize("stride", [1, 4, 7])
def test_skipping_non_reference_frames_is_exact(tmp_path: Path, videos_dir: Path, stride: int) -> None:
    """The fast path (FFmpeg drops non-reference frames that are not key-frames) delivers the same
    key-frames, bit for bit, and the same timeline as decoding everything."""
    made = write_clip(tmp_path / "bframes.mp4", _moving_frames(90), preset="veryfast")
    for clip in (made, videos_dir / "02_dance_tfjs_576x576.mp4"):
        with av.open(str(clip)) as c:
            c.streams.video[0].codec_context.skip_frame = "NONREF"
            decoded_nonref = sum(1 for _ in c.decode(video=0))
        assert decoded_nonref < probe(clip).frame_count  # the clip really has frames that can be skipped
        runs = {}
        for skip in (False, True):
            with KeyFrameReader(clip, stride, start=2, skip_unused=skip) as r:
                runs[skip] = ([(k.index, k.timestamp, k.image.tobytes()) for k in r], r.timestamps)
        assert runs[True] == runs[False]
        assert [k[0] for k in runs[True][0]] == list(range(2, probe(clip).frame_count, stride))


def test_matroska_uses_output_order_path(tmp_path: Path, videos_dir: Path) -> None:
    """mkv/webm packets are decoded in output order (no pts index): same frames and times as the mp4."""
    mp4 = remux(videos_dir / BIG, tmp_path / "part.mp4", 40)
    mkv = remux(videos_dir / BIG, tmp_path / "part.mkv", 40)
    runs = []
    for clip in (mp4, mkv):
        with KeyFrameReader(clip, 10, start=3) as r:
            runs.append(([(k.index, k.image.tobytes()) for k in r], r.timestamps, r.skipping))
    assert runs[0][2] and not runs[1][2]
    assert runs[0][0] == runs[1][0]
    np.testing.assert_allclose(runs[0][1], runs[1][1], atol=1e-3)  # mkv stores milliseconds
    assert [k[0] for k in runs[0][0]] == [3, 13, 23, 33]


@pytest.mark.parametrize("backend", ["av", "opencv"])
def test_explicit_frames_are_exactly_those_and_stop_early(tmp_path: Path, backend: str) -> None:
    """A refining pass asks for a set of frames: it gets exactly those, bit-identical to a full pass,
    and decoding stops after the last one (on the B-frame clip, skipping path; mkv: in-order path)."""
    mp4 = write_clip(tmp_path / "bframes.mp4", _moving_frames(60), preset="veryfast")
    mkv = remux(mp4, tmp_path / "bframes.mkv", 60)
    wanted = [3, 4, 17, 30, 41]
    for clip in (mp4, mkv):
        with KeyFrameReader(clip, 1, backend=backend) as r:
            full = {k.index: k.image.tobytes() for k in r}
        with KeyFrameReader(clip, frames=wanted[::-1], backend=backend) as r:
            got = [(k.index, k.image.tobytes()) for k in r]
            assert r.frames_read == len(r.timestamps) == 42
        assert [i for i, _ in got] == wanted
        assert all(img == full[i] for i, img in got)
        with KeyFrameReader(clip, frames=[59, 80], backend=backend) as r:  # past the end: simply not there
            assert [k.index for k in r] == [59]
    with pytest.raises(ValueError, match="no wanted frame"):
        KeyFrameReader(mp4, frames=[5], start=10)
