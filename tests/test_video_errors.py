"""Bad inputs give a VideoError a user can act on; damaged clips keep what was decoded; memory stays flat."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import av
import numpy as np
import pytest

from inference.errors import VideoError
from inference.video import KeyFrameReader, probe
from conftest import REPO
from test_video import BIG


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "folder", "audio_only"])
def test_opening_bad_files_raises_clear_error(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "clip.mp4"
    expect = {
        "missing": "not found",
        "empty": "0 bytes",
        "text": "Cannot open",
        "folder": "folder",
        "audio_only": "no video stream",
    }[kind]
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a video\n" * 50)
    elif kind == "folder":
        path.mkdir()
    elif kind == "audio_only":
        path = tmp_path / "tone.wav"
        with av.open(str(path), "w") as out:
            s = out.add_stream("pcm_s16le", rate=8000)
            f = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
            f.sample_rate = 8000
            out.mux(s.encode(f))
            out.mux(s.encode())
    for call in (probe, KeyFrameReader):
        with pytest.raises(VideoError, match=expect) as e:
            call(path)
        assert str(path) in str(e.value)


def test_truncated_mid_stream_names_frame_and_keeps_timestamps(tmp_path: Path, videos_dir: Path) -> None:
    src = videos_dir / BIG  # index (moov) at the start, so a cut copy still opens
    data = src.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    reader = KeyFrameReader(cut, stride=10)
    keys = []
    with pytest.raises(VideoError) as e:
        for k in reader:
            keys.append(k.index)
    err = e.value
    n = err.frames_read
    assert 10 < n < 230
    assert str(cut) in str(err) and f"frame {n}" in str(err)
    assert err.path == cut
    assert len(reader.timestamps) == n and keys == list(range(0, n, 10))
    np.testing.assert_allclose(reader.timestamps, np.arange(n) / 30.0, atol=1e-3)
    reader.close()


def test_truncated_at_packet_boundary_is_not_silent(tmp_path: Path, videos_dir: Path) -> None:
    src = videos_dir / BIG
    with av.open(str(src)) as c:
        ends = [pk.pos + pk.size for pk in c.demux(c.streams.video[0]) if pk.size][:100]
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[: ends[-1]])  # exactly 100 whole packets
    with KeyFrameReader(cut, stride=20, prefetch=2) as r:
        with pytest.raises(VideoError, match="ends after 100 of 230"):
            list(r)
        assert len(r.timestamps) == 100


def test_truncated_recording_without_index(tmp_path: Path, videos_dir: Path) -> None:
    src = videos_dir / "01_squats_tfjs_720x1280.mp4"  # index (moov) at the end: a cut file cannot open
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(src.read_bytes()[:200_000])
    with pytest.raises(VideoError, match="truncated"):
        KeyFrameReader(cut)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_memory_stays_flat_on_a_long_clip(tmp_path: Path, videos_dir: Path) -> None:
    """The dance clip looped to 3000 frames would be 2.8 GB as RGB frames; streaming stays within a few MB."""
    spec = importlib.util.spec_from_file_location("bench_memory", REPO / "bench" / "memory.py")
    memory = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(memory)
    clip = memory.loop_clip(videos_dir / "02_dance_tfjs_576x576.mp4", tmp_path / "long.mp4", minutes=1.67)
    with KeyFrameReader(clip, stride=1, prefetch=2) as r:
        it = iter(r)
        for _ in range(300):
            next(it)
        rss_early = _rss_mb()
        count = 300 + sum(1 for _ in it)
    growth = _rss_mb() - rss_early
    assert count == 3000 and len(r.timestamps) == 3000
    assert growth < 40, f"RSS grew {growth:.1f} MB while streaming"
