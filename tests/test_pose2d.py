"""2D pose on key-frames against Google's reference BlazePose output, the 33 -> 17 mapping, and the
people tracker / person choice on synthetic detections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.pose2d.landmarks import mediapipe33_to_h36m17
from inference import capture
from inference.pose2d import Detection, PeopleTracker, choose_track, dedupe
from inference.pose2d.detector import _FLIP33
from inference.skeleton import INDEX

SQUATS = "01_squats_tfjs_720x1280.mp4"


def no_lift(points2d: np.ndarray, **_: object) -> np.ndarray:
    """Stands in for the 3D model where only the 2D stage is under test."""
    return np.zeros(points2d.shape[:2] + (3,), np.float32)


@pytest.fixture(scope="module")
def reference(videos_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    ref2d = np.array(json.loads((videos_dir / "01_squats_tfjs.reference_blazepose_full_2d.json").read_text()))
    ref3d = np.array(json.loads((videos_dir / "01_squats_tfjs.reference_blazepose_full_world3d.json").read_text()))
    return ref2d, ref3d


@pytest.mark.parametrize("stride", [1, 10])
def test_2d_matches_reference_blazepose_on_keyframes(videos_dir: Path, reference, stride: int) -> None:
    ref2d, ref3d = reference
    res = capture(videos_dir / SQUATS, stride, pose_model="full", lifter=no_lift)
    kf = res.keyframes
    assert kf.tolist() == list(range(0, 65, stride)) and res.detected.all()
    err33 = np.linalg.norm(res.landmarks33[:, :, :2] - ref2d[kf, :, :2], axis=-1)  # [K, 33] px
    err17 = np.linalg.norm(res.points2d[kf] - mediapipe33_to_h36m17(ref2d[kf, :, :2]), axis=-1)
    # Measured 5.9 px (stride 1) and 6.5 px (stride 10) mean on a 720x1280 frame with a ~1000 px tall person.
    assert err33.mean() < 8.0 and np.median(err33) < 7.0, (err33.mean(), np.median(err33))
    assert err17.mean() < 8.0 and err33.mean(axis=1).max() < 15.0
    # MediaPipe's world landmarks, kept for comparison with the 3D model (measured 5.3-6 cm).
    assert np.linalg.norm(res.world33 - ref3d[kf], axis=-1).mean() < 0.08
    assert np.isfinite(res.world3d[kf]).all() and np.isnan(res.world3d[np.setdiff1d(np.arange(65), kf)]).all()


def test_mapping_joint_meanings(reference) -> None:
    ref2d = reference[0][:, :, :2]
    p = mediapipe33_to_h36m17(ref2d)
    np.testing.assert_allclose(p[:, INDEX["Pelvis"]], ref2d[:, [23, 24]].mean(1), atol=1e-3)
    np.testing.assert_allclose(p[:, INDEX["Thorax"]], ref2d[:, [11, 12]].mean(1), atol=1e-3)
    np.testing.assert_allclose(p[:, INDEX["Spine"]], (p[:, 0] + p[:, INDEX["Thorax"]]) / 2, atol=1e-3)
    for name, lm in [("LWrist", 15), ("RWrist", 16), ("LAnkle", 27), ("RAnkle", 28), ("Neck", 0)]:
        np.testing.assert_allclose(p[:, INDEX[name]], ref2d[:, lm], atol=1e-3)
    # Front view: the performer's left is on the image's right (larger x).
    assert (p[:, INDEX["LShoulder"], 0] > p[:, INDEX["RShoulder"], 0]).all()
    nan = np.full((2, 33, 2), np.nan)
    assert np.isnan(mediapipe33_to_h36m17(nan)).all()  # no person -> NaN, never zeros


def _person(cx: float, cy: float, height: float, vis: float = 0.9) -> Detection:
    """A figure: one fixed random layout of 33 landmarks in a box of `height` px centred on (cx, cy)."""
    rng = np.random.default_rng(0)
    xy = np.stack([cx + (rng.random(33) - 0.5) * height * 0.4, cy + (rng.random(33) - 0.5) * height], axis=1)
    img = np.concatenate([xy, np.zeros((33, 1)), np.full((33, 2), vis)], axis=1).astype(np.float32)
    return Detection(img, np.zeros((33, 3), np.float32))


def test_tracker_keeps_identities_when_order_and_visibility_change() -> None:
    tracker = PeopleTracker()
    frames = []
    for k in range(12):  # A walks right, B stands still and is bigger; B missing on key-frames 4-6
        a = _person(100 + 30 * k, 500, 300)
        b = _person(900, 450, 360)
        people = [a] if 4 <= k <= 6 else ([b, a] if k % 2 else [a, b])
        frames.append((a, b))
        tracker.update(k, 10 * k, people)
    assert len(tracker.tracks) == 2
    ta, tb = sorted(tracker.tracks, key=lambda t: len(t.items), reverse=True)
    assert sorted(ta.items) == list(range(12)) and sorted(tb.items) == [0, 1, 2, 3, 7, 8, 9, 10, 11]
    assert all(ta.items[k] is frames[k][0] for k in ta.items)
    assert all(tb.items[k] is frames[k][1] for k in tb.items)
    assert choose_track(tracker.tracks, "largest", (1000, 1000)) is ta  # more area summed over the clip
    assert choose_track(tracker.tracks, 1, (1000, 1000)) is tb
    assert choose_track(tracker.tracks, 5, (1000, 1000)) is None
    assert choose_track(tracker.tracks, "central", (1800, 900)) is tb
    with pytest.raises(ValueError):
        choose_track(tracker.tracks, "leftmost", (1000, 1000))


def test_tracker_does_not_jump_to_a_far_person() -> None:
    tracker = PeopleTracker()
    tracker.update(0, 0, [_person(100, 500, 300)])
    tracker.update(1, 5, [_person(1500, 500, 300)])  # someone else, far away, 5 frames later
    assert len(tracker.tracks) == 2


def test_dedupe_drops_double_detections_of_one_body() -> None:
    a = _person(500, 500, 400)
    a2 = Detection(a.image + np.float32([3, -2, 0, -0.1, 0]), a.world)
    b = _person(760, 500, 400)  # a different person standing close
    mirrored = Detection(a.image[_FLIP33], a.world)  # the same body with left and right swapped
    kept = dedupe([a2, b, mirrored, a])
    assert len(kept) == 2 and any(k is b for k in kept)
    assert sum(any(k is x for k in kept) for x in (a, a2, mirrored)) == 1
