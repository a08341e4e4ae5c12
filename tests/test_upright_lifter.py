"""Up on what a user gets: the shipped lifter's output for the bench's scenes, per motion class.

Same scenes as bench/upright.py (validation clips through cameras pitched -40..+20 deg, rolled +-15 deg, fov
unknown to the code; 2D with detector-like offsets and 2 px noise on every 10th frame), lifted by
`inference.uplift` (cached in runs/upright_lift_cache by the weights' hash), then `retarget_motion`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import upright_scenes as us  # noqa: E402

# class -> (median, 90th percentile) tilt error allowed (deg): the measured table in docs/retarget.md with a
# margin, re-measured with the lifter's steady in-betweens (inference/lift/inbetween.py).
# The 2 / 4 deg is not met on the lifter's output (docs/retarget.md says where and why).
# Dec 7: measured on ftW3 (shipped; 2D only here: this bench has no MediaPipe world landmarks to feed it).
# Against v2 it is better on most 90th percentiles (one-leg 11.0 -> 9.9, pick up 14.4 -> 11.8, run 6.0 -> 4.9,
# jump 16.0 -> 15.0, dance 4.7 -> 3.7) and worse on three classes, whose bounds moved: squat median 4.5 -> 7.6,
# lie p90 11.2 -> 13.0, throw median 1.8 -> 3.2 (all classes 3.8 / 10.8 -> 3.9 / 11.0).
# Then the learned cue took clips from 0.8 of its window (gravity.LEARNED_MIN_SPAN; the bench's squats are
# 1.3-1.7 s): squat 7.6 / 11.4 -> 5.1 / 9.8, one-leg 3.8 / 9.9 -> 4.0 / 9.4, all 4.1 / 10.1.
TOLERANCE = {
    "stand": (8.5, 9.5),
    "one-leg": (5.5, 11.0),
    "squat": (5.5, 11.0),
    "sit": (20.0, 27.0),
    "lie": (9.0, 14.0),
    "pick up": (6.5, 15.0),  # 5.6 / 14.4 with the cues' leans taken out (posture.CUE_LEAN_DEG)
    "throw": (4.0, 8.5),
    "walk toward": (2.5, 5.5),
    "walk away": (3.0, 4.5),
    "walk across": (5.5, 9.0),
    "run": (3.5, 7.5),
    "jump": (8.0, 16.5),  # 7.1 / 16.0 (7.6 / 16.3 before the leans; 5.2 / 12.4 on the raw network output)
    "dance": (5.0, 6.0),
}


@pytest.fixture(scope="module")
def results() -> dict[str, list[tuple[float, str]]]:
    return us.up_errors(list(TOLERANCE), lift=True, lift_cache=REPO / "runs" / "upright_lift_cache")


@pytest.mark.slow
@pytest.mark.parametrize("cls", list(TOLERANCE))
def test_up_on_the_lifters_output_per_class(results, cls: str) -> None:
    err = np.array([e for e, _ in results[cls]])
    med, p90 = np.median(err), np.percentile(err, 90)
    print(f"{cls}: tilt error median {med:.1f} p90 {p90:.1f} deg; {[m for _, m in results[cls]]}")
    assert med <= TOLERANCE[cls][0] and p90 <= TOLERANCE[cls][1]


@pytest.mark.slow
def test_up_on_the_lifters_output_over_all_classes(results) -> None:
    err = np.array([e for rows in results.values() for e, _ in rows])
    print(f"all: median {np.median(err):.1f} p90 {np.percentile(err, 90):.1f} deg over {len(err)} scenes")
    assert np.median(err) <= 4.3 and np.percentile(err, 90) <= 11.2  # measured 4.1 / 10.1 (v2 3.8 / 10.8)
    assert any("learned" in m for rows in results.values() for _, m in rows)
