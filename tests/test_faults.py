"""Faults a capture must survive and report: the person leaves the frame (cut to black, cropped away), a
limb leaves the frame, two people cross. Real MediaPipe on clips made from the shared dance clip
(tests/faults.py); the 3D stage is stubbed, the report's 2D side is what is checked here."""

from __future__ import annotations

from pathlib import Path

import faults
import numpy as np
import pytest

from inference import capture
from inference.quality import QualityReport


def no_lift(points2d: np.ndarray, **_: object) -> np.ndarray:
    return np.zeros(points2d.shape[:2] + (3,), np.float32)


def of_kind(report: QualityReport, kind: str) -> list[tuple[int, int]]:
    return [(f.start_frame, f.end_frame) for f in report.flags if f.kind == kind]


def covers(ranges: list[tuple[int, int]], a: int, b: int) -> float:
    """Share of frames a..b (inclusive) inside the flagged ranges."""
    m = np.zeros(b + 1, bool)
    for s, e in ranges:
        m[s : min(e, b) + 1] = True
    return float(m[a : b + 1].mean())


@pytest.mark.parametrize("stride", [5, "auto"])
@pytest.mark.parametrize("make", [faults.blacked_out, faults.cropped_away], ids=["black", "cropped"])
def test_person_leaving_the_frame_for_a_second_is_lost_there(tmp_path: Path, make, stride) -> None:
    res = capture(make(tmp_path / "gap.mp4", 30, 60), stride, lifter=no_lift)
    rep = res.report
    lost = of_kind(rep, "lost")
    assert len(lost) == 1, rep.flags
    ((a, b),) = lost
    assert 25 <= a <= 31 and 58 <= b <= 64, lost  # frames 30..59, to the key-frames' resolution
    assert covers(lost, 30, 59) >= 0.95
    outside = np.isin(res.keyframes, np.arange(30, 60), invert=True)
    assert res.detected[outside].all()  # the rest is captured
    assert 0.5 < rep.detection_rate < 1.0
    assert rep.worst().kind == "lost"
    assert rep.confidence[35:55].max() < 0.2 and rep.confidence[:25].min() > 0.8


@pytest.mark.parametrize("stride", [5, "auto"])
def test_feet_leaving_the_frame_are_cut_off_not_lost(tmp_path: Path, stride) -> None:
    res = capture(faults.legs_out(tmp_path / "legs.mp4", 30, 60), stride, lifter=no_lift)
    rep = res.report
    cut = of_kind(rep, "cut_off")
    assert cut and covers(cut, 35, 55) >= 0.9, rep.flags
    assert all(a >= 15 and b <= 75 for a, b in cut), cut  # not outside the tilt (frames 20..69)
    assert any("ankle" in f.detail for f in rep.flags if f.kind == "cut_off")
    assert not of_kind(rep, "lost") and res.detected.all()


@pytest.mark.parametrize("stride", [5, "auto"])
def test_two_people_crossing_keep_the_identity_or_say_so(tmp_path: Path, stride) -> None:
    clip, a_x = faults.crossing(tmp_path / "cross.mp4")
    res = capture(clip, stride, lifter=no_lift)
    rep = res.report
    assert res.stats.people_tracks >= 2
    keys = res.keyframes[res.detected]
    follows = np.abs(res.points2d[keys, 0, 0] - a_x[keys]) < 60  # the pelvis is A's
    assert follows.mean() >= 0.8, (res.points2d[keys, 0, 0], a_x[keys])
    doubtful = of_kind(rep, "identity") + of_kind(rep, "lost")
    for k in keys[~follows]:  # wherever it is someone else, the report says so
        assert any(s <= k <= e for s, e in doubtful), (k, rep.flags)
