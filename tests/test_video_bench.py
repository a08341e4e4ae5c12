"""bench/speed.py: the decode worker measures what it says and the table reports the targets' ratios."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("bench_speed", REPO / "bench" / "speed.py")
speed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(speed)


@pytest.mark.parametrize("mode", ["pyav_rgb", "opencv_rgb", "floor"])
def test_decode_worker_counts_every_frame(videos_dir: Path, mode: str) -> None:
    res = speed.worker_decode(str(videos_dir / "02_dance_tfjs_576x576.mp4"), mode)
    assert res["frames"] == 120 and res["wall"] > 0 and res["rss"] > 10


def test_table_and_headline_ratios() -> None:
    decode = {"pyav_rgb": {"frames": 100, "wall": 0.5, "imports": 0.1, "rss": 80.0}}
    runs = [
        {
            "stride": s,
            "frames": 100,
            "keyframes": -(-100 // s),
            "detected": -(-100 // s),
            "wall": w,
            "timings": {"decode": 0.1, "pose2d": w / 2, "select": 0.0, "uplift": 0.05},
            "imports": 1.0,
            "warmup": 2.0,
            "rss": 500.0,
        }
        for s, w in [(1, 3.0), (10, 0.6), (20, 0.7)]
    ]
    table, summary = speed.clip_table("x.mp4", 25.0, decode, runs)
    assert summary == {"speedup_s10": pytest.approx(5.0), "decode_ratio_s20": pytest.approx(1.4)}
    row = next(line for line in table.splitlines() if line.startswith("| s_in=10 "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "10 (10 with person)"
    assert cells[2:8] == ["1.00", "3.00", "0.00", "0.50", "1.50", "**6.00**"]  # ms per video frame
    assert cells[8] == "5.00" and cells[9] == "6.7"  # speed-up, x real time (4 s of video in 0.6 s)


def test_benchmarks_sections_are_replaced_and_headline_stays_last(tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    speed.update_benchmarks(md, "speed", "speed v1", "speedup_s10=1.00 decode_ratio_s20=2.00")
    speed.update_benchmarks(md, "memory", "memory v1")
    speed.update_benchmarks(md, "speed", "speed v2", "speedup_s10=3.00 decode_ratio_s20=4.00")
    text = md.read_text()
    assert "speed v2" in text and "memory v1" in text and "v1\n<!-- end:speed" not in text
    assert text.rstrip("\n").split("\n")[-1] == "speedup_s10=3.00 decode_ratio_s20=4.00"
