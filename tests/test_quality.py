"""inference.quality: every flag kind and metric on synthetic evidence (pure numpy, no video, no model)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from inference.quality import Evidence, QualityReport, assess, foot_slide
from inference.quality.flags import CROWD
from inference.skeleton import INDEX

W, H, FPS = 1000, 1000, 30.0
# A front-facing person in image pixels (performer's left on the image right), 33 BlazePose landmarks.
_XY33 = {
    0: (500, 240),
    7: (530, 230),
    8: (470, 230),
    11: (560, 300),
    12: (440, 300),
    13: (580, 400),
    14: (420, 400),
    15: (590, 490),
    16: (410, 490),
    23: (540, 520),
    24: (460, 520),
    25: (545, 680),
    26: (455, 680),
    27: (550, 840),
    28: (450, 840),
}
_PAIRS = [
    (1, 4),
    (2, 5),
    (3, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
    (17, 18),
    (19, 20),
    (21, 22),
    (23, 24),
    (25, 26),
    (27, 28),
    (29, 30),
    (31, 32),
]


def person33() -> tuple[np.ndarray, np.ndarray]:
    """([33, 5] image landmarks, [33, 3] world landmarks in metres, y down, origin between the hips)."""
    img = np.zeros((33, 5), np.float32)
    near = {
        1: 0,
        2: 0,
        3: 0,
        4: 0,
        5: 0,
        6: 0,
        9: 0,
        10: 0,
        17: 15,
        19: 15,
        21: 15,
        18: 16,
        20: 16,
        22: 16,
        29: 27,
        31: 27,
        30: 28,
        32: 28,
    }
    for i in range(33):
        img[i, :2] = _XY33[i] if i in _XY33 else _XY33[near[i]]
    img[:, 3:] = 0.99
    world = np.zeros((33, 3), np.float32)
    world[:, :2] = (img[:, :2] - [500, 520]) / 400.0  # ~1.6 m tall
    return img, world


def evidence(K: int = 12, step: int = 10, **over: np.ndarray) -> Evidence:
    img, world = person33()
    lm = np.repeat(img[None], K, axis=0)
    w33 = np.repeat(world[None], K, axis=0)
    from inference.pose2d.landmarks import mediapipe33_to_h36m17

    fields = dict(
        keys=np.arange(K) * step,
        n_frames=K * step,
        fps=FPS,
        image_size=(W, H),
        detected=np.ones(K, bool),
        landmarks33=lm,
        world33=w33,
        points2d=None,
        crowding=np.full(K, np.inf),
        others=np.zeros(K, np.int64),
    )
    fields.update(over)
    lm = fields["landmarks33"]
    lm[~fields["detected"]] = np.nan
    fields["world33"][~fields["detected"]] = np.nan
    if fields["points2d"] is None:
        fields["points2d"] = mediapipe33_to_h36m17(lm[:, :, :2])
    return Evidence(**fields)


def still_joints(T: int) -> np.ndarray:
    """[T, 17, 3] a rigid standing body (camera coords, pelvis-relative, metres)."""
    _, world = person33()
    from inference.pose2d.landmarks import mediapipe33_to_h36m17

    j = mediapipe33_to_h36m17(world[None])[0]
    j = j - j[0]
    return np.repeat(j[None], T, axis=0).astype(np.float32)


def kinds(report: QualityReport) -> list[tuple[str, int, int]]:
    return [(f.kind, f.start_frame, f.end_frame) for f in report.flags]


def test_a_clean_capture_raises_no_flag_and_roundtrips() -> None:
    ev = evidence()
    rep = assess(ev, still_joints(ev.n_frames), stride=10)
    assert rep.flags == () and rep.detection_rate == 1.0 and rep.effective_stride == 10.0
    assert rep.metrics.jitter == pytest.approx(0, abs=1e-6)
    assert rep.metrics.bone_length_std_mm == pytest.approx(0, abs=1e-4)
    assert rep.confidence.shape == (120,) and np.allclose(rep.confidence, 0.99)
    d = json.loads(rep.to_json())
    assert {"detection_rate", "keyframes", "effective_stride", "flags", "metrics"} <= set(d)
    assert set(d["metrics"]) == {"jitter", "bone_length_std_mm", "foot_slide_mm"}
    back = QualityReport.from_dict(d)
    assert back.keyframes.tolist() == rep.keyframes.tolist() and back.flags == rep.flags
    assert "flags: none" in rep.summary() and "\n" not in rep.summary() and rep.worst() is None


def test_lost_key_frames_cover_the_frames_up_to_the_next_found_one() -> None:
    det = np.ones(12, bool)
    det[3:6] = False
    others = np.zeros(12, np.int64)
    others[4] = 1
    rep = assess(evidence(detected=det, others=others), still_joints(120), stride=10)
    assert kinds(rep) == [("lost", 30, 59)]
    assert "3 key-frames" in rep.flags[0].detail and "other people" in rep.flags[0].detail
    assert rep.confidence[30:51].max() == 0 and rep.confidence[25] == pytest.approx(0.495, abs=0.01)
    assert rep.detection_rate == pytest.approx(9 / 12) and rep.worst() == rep.flags[0]


def test_a_limb_out_of_frame_is_cut_off_and_named() -> None:
    ev = evidence()
    ev.landmarks33[[4, 5], 27, 1] = H + 80  # left ankle below the image
    ev.landmarks33[[4, 5], 27, 4] = 0.1
    rep = assess(ev, still_joints(120), stride=10)
    assert kinds(rep) == [("cut_off", 40, 59)] and "left ankle" in rep.flags[0].detail


def test_occluded_limbs_are_low_confidence() -> None:
    ev = evidence()
    ev.landmarks33[7, [13, 15, 25, 27], 3] = 0.1  # left arm and leg hidden, still inside the image
    rep = assess(ev, still_joints(120), stride=10)
    assert kinds(rep) == [("low_confidence", 70, 79)] and "left wrist" in rep.flags[0].detail


def test_left_right_swaps_of_the_legs_and_of_the_whole_body() -> None:
    ev = evidence()
    w = ev.world33
    w[3, [25, 26, 27, 28]] = w[3, [26, 25, 28, 27]]  # legs swapped on key-frame 3
    for a, b in _PAIRS:  # whole body mirrored on key-frame 8 only
        w[8, [a, b]] = w[8, [b, a]]
    rep = assess(ev, still_joints(120), stride=10)
    assert [k for k in kinds(rep) if k[0] == "swap"] == [("swap", 30, 39), ("swap", 80, 89)]
    assert "legs" in rep.flags[0].detail and "faced the other way" in rep.flags[1].detail


def test_identity_when_people_overlap_or_the_size_jumps() -> None:
    crowd = np.full(12, np.inf)
    crowd[[5, 6]] = 0.5 * CROWD
    ev = evidence(crowding=crowd)
    ev.landmarks33[9:, :, :2] = (ev.landmarks33[9:, :, :2] - 500) * 0.6 + 500  # another, smaller body
    ev = evidence(crowding=crowd, landmarks33=ev.landmarks33)
    rep = assess(ev, still_joints(120), stride=10)
    ids = [k for k in kinds(rep) if k[0] == "identity"]
    assert ids == [("identity", 50, 69), ("identity", 80, 90)], kinds(rep)
    assert "size changed" in [f for f in rep.flags if f.kind == "identity"][-1].detail


def test_fast_motion_between_key_frames() -> None:
    ev = evidence()
    ev.points2d[6, [INDEX["LAnkle"], INDEX["LKnee"]], 0] += 200  # ~0.4 body heights out and back
    rep = assess(ev, still_joints(120), stride=10)
    assert kinds(rep) == [("fast", 50, 70)] and "10 frames apart" in rep.flags[0].detail


def test_breathing_bones_are_flagged_over_their_frames() -> None:
    j = still_joints(120)
    j[50:62] *= 1.3  # the whole body 30 % bigger for 12 frames
    rep = assess(evidence(), j, stride=10)
    assert kinds(rep) == [("breathing", 50, 61)]
    assert rep.metrics.bone_length_std_mm > 10


def _project(joints: np.ndarray, root: np.ndarray) -> np.ndarray:
    f = 0.5 * max(W, H) / math.tan(math.radians(30))
    x = joints + root[:, None]
    return (f * x[..., :2] / x[..., 2:3] + [W / 2, H / 2]).astype(np.float32)


def test_foot_slide_is_zero_for_planted_feet_and_the_speed_when_sliding() -> None:
    T = 120
    j = still_joints(T)
    j[..., 1] = -j[..., 1]  # camera y points down: head up means negative y
    keys = np.arange(0, T, 5)
    still_root = np.tile([0.0, 0.2, 4.0], (T, 1))
    ev = evidence(K=len(keys), step=5, points2d=_project(j, still_root)[keys])
    assert foot_slide(j, ev) == pytest.approx(0.0, abs=0.5)
    slide_root = still_root + np.arange(T)[:, None] * [0.01, 0.0, 0.0]  # the whole body glides 10 mm/frame
    ev = evidence(K=len(keys), step=5, points2d=_project(j, slide_root)[keys])
    assert foot_slide(j, ev) == pytest.approx(10.0, rel=0.15)
