"""The body cues' measured leans (retarget/posture.py CUE_LEAN_DEG, bench/cue_bias.py): turned back in the body's
own frame, and chosen per seat."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import upright_scenes as us  # noqa: E402

from retarget import gravity, posture, quat  # noqa: E402

UP = np.array([0.0, 0.0, 1.0])


def _stander() -> np.ndarray:
    w = us.load_world("reactidle_008_acted")[:60]
    return w - w[:, :1]


def test_lean_back_undoes_a_lean_in_the_body_frame() -> None:
    j = _stander()
    f, left = posture.body_axes(j, UP)
    for fwd_deg, left_deg in ((5.0, 0.0), (-4.3, 0.0), (2.0, -3.0)):
        leaned = quat.normalize(UP + np.tan(np.radians(fwd_deg)) * f + np.tan(np.radians(left_deg)) * left)
        back = posture.lean_back(UP, (f, left), leaned, fwd_deg, left_deg)
        assert posture.angle_deg(back, UP).max() < 1e-6
        # the wrong sign doubles the lean instead
        wrong = posture.lean_back(UP, (f, left), leaned, -fwd_deg, -left_deg)
        assert posture.angle_deg(wrong, UP).min() > 1.9 * np.hypot(fwd_deg, left_deg)
    v = quat.normalize(j[:, 8] - j[:, 0])
    np.testing.assert_array_equal(posture.lean_back(UP, (f, left), v, 0.0, 0.0), v)


def test_a_chair_is_not_the_floor() -> None:
    seated = us.sit_pose(us.load_world("reactidle_008_acted")[:60])
    rel = seated - seated[:, :1]
    sitting = posture.postures(rel, UP)["sitting"]
    assert sitting.mean() > 0.9 and not posture.seated_on_floor(rel, UP, sitting)
    floor = rel.copy()
    floor[:, [3, 6], 2] = floor[:, [0], 2] - 0.05  # ankles brought up to the hips' height: legs out on the floor
    assert posture.seated_on_floor(floor, UP, sitting)
    assert not posture.seated_on_floor(rel, UP, np.zeros(len(rel), bool))


def test_the_sitting_lean_is_taken_out() -> None:
    """A chair sitter's pelvis -> thorax leans back (a standing torso does): the corrected cue is nearer up."""
    seated = us.sit_pose(us.load_world("reactidle_008_acted"))
    rel = seated - seated[:, :1]

    def mean_tilt(correct: bool) -> float:
        frames, vecs, _ = gravity.cue_vectors(rel, us.FPS, UP, 10.0, correct=correct)
        return float(posture.angle_deg(quat.normalize(vecs["sitting"][frames["sitting"]].mean(axis=0)), UP))

    raw, corrected = mean_tilt(False), mean_tilt(True)
    print(f"sitting cue off up: raw {raw:.1f} deg, corrected {corrected:.1f} deg")
    assert corrected < raw - 2.0
