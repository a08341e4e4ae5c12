"""capture(): real MediaPipe on the real clips; frame grid, NaN handling, person choice, cancel, npz.

The 3D stage is replaced by `no_lift` / `spy_lift` here so these tests pin down the 2D side of the contract;
tests/test_e2e.py runs the real model end to end (video -> keys in Blender), tests/test_lift.py the model itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import VIDEOS
from test_video import set_mp4_rotation, write_clip

from inference import CaptureResult, capture
from inference.errors import CaptureCancelled, NoPersonError, UpliftError

SQUATS, DANCE, WALK = (
    n + ".mp4" for n in ("01_squats_tfjs_720x1280", "02_dance_tfjs_576x576", "04_sideview_walk_jump_sports2d_1768x994")
)
FRAMES = {SQUATS: 65, DANCE: 120, WALK: 230}


def no_lift(points2d: np.ndarray, **_: object) -> np.ndarray:
    return np.zeros(points2d.shape[:2] + (3,), np.float32)


class SpyLift:
    """Records what the pipeline hands the 3D model."""

    def __call__(self, points2d: np.ndarray, **kw: object) -> np.ndarray:
        self.points2d, self.kw = points2d.copy(), kw
        return np.ones(points2d.shape[:2] + (3,), np.float32)


_CACHE: dict[tuple, CaptureResult] = {}


def run(clip: Path, stride: int, **kw) -> CaptureResult:
    """Captures shared between tests (MediaPipe is the expensive part)."""
    key = (str(clip), stride, tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = capture(clip, stride, lifter=no_lift, **kw)
    return _CACHE[key]


def check_grid(res: CaptureResult, T: int, stride: int) -> None:
    """Frame grid and NaN contract common to every capture."""
    assert res.points2d.shape == (T, 17, 2) and res.joints3d.shape == (T, 17, 3) and len(res.timestamps) == T
    assert res.keyframes.tolist() == list(range(0, T, stride))
    assert res.detected.shape == res.keyframes.shape and res.stats.keyframes == len(res.keyframes)
    finite_rows = np.isfinite(res.points2d).all(axis=(1, 2))
    assert (finite_rows == np.isin(np.arange(T), res.keyframes[res.detected])).all()
    assert np.isnan(res.points2d[~finite_rows]).all()  # NaN, never zeros, wherever there is no 2D
    assert (np.diff(res.timestamps) > 0).all()
    assert res.timings.total >= res.timings.pose2d > 0 and res.timings.uplift > 0
    assert res.stats.detected + res.stats.missed == res.stats.keyframes


@pytest.mark.parametrize("clip", [v.name for v in VIDEOS])
@pytest.mark.parametrize("stride", [5, 20])
def test_capture_every_clip(videos_dir: Path, clip: str, stride: int) -> None:
    res = run(videos_dir / clip, stride)
    T = FRAMES[clip]
    check_grid(res, T, stride)
    w, h = res.image_size
    pts = res.points2d[np.isfinite(res.points2d).all(axis=(1, 2))]
    assert (
        (pts[..., 0] > -0.2 * w) & (pts[..., 0] < 1.2 * w) & (pts[..., 1] > -0.2 * h) & (pts[..., 1] < 1.2 * h)
    ).mean() > 0.95
    rate = res.stats.detection_rate
    assert rate == 1.0 if clip != WALK else rate > 0.3, res.stats


def test_all_strides_give_the_same_timeline(videos_dir: Path) -> None:
    for stride in range(1, 21):
        res = capture(videos_dir / SQUATS, stride, max_people=1, lifter=no_lift)
        check_grid(res, 65, stride)
        np.testing.assert_allclose(res.timestamps, np.arange(65) / 5.0, atol=1e-3)


def test_frame_range_aligns_keyframes_to_the_range(videos_dir: Path) -> None:
    res = capture(videos_dir / SQUATS, 4, frame_range=(10, 43), max_people=1, lifter=no_lift)
    check_grid(res, 33, 4)
    assert res.frame_start == 10
    np.testing.assert_allclose(res.timestamps, np.arange(10, 43) / 5.0, atol=1e-3)
    full = run(videos_dir / SQUATS, 1, max_people=1)  # frame 10 + 4k of the clip = row 4k of the range
    np.testing.assert_allclose(res.points2d[res.keyframes], full.points2d[10 + res.keyframes], atol=40)


def test_blank_frames_become_nan_rows(tmp_path: Path, videos_dir: Path) -> None:
    """A person, then 20 empty frames, then the person again: empty key-frames are NaN and reported."""
    import av

    with av.open(str(videos_dir / DANCE)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:60]
    for i in range(20, 40):
        frames[i] = np.full_like(frames[i], 128)
    clip = write_clip(tmp_path / "gap.mp4", frames)
    spy = SpyLift()
    res = capture(clip, 5, lifter=spy)
    check_grid(res, 60, 5)
    assert res.detected.tolist() == [k < 20 or k >= 40 for k in range(0, 60, 5)]
    assert res.stats.missed == 4 and res.stats.detected == 8
    assert np.isnan(res.points2d[20:40]).all() and np.isnan(res.world3d[20:40]).all()
    assert np.isnan(res.landmarks33[~res.detected]).all()
    # The 3D model gets exactly the NaN layout of the contract, plus image size and fps.
    np.testing.assert_array_equal(spy.points2d, res.points2d)
    assert spy.kw["image_size"] == (576, 576) and spy.kw["fps"] == pytest.approx(30.0)
    assert (res.joints3d == 1).all()


def test_phone_clip_with_rotation_metadata(tmp_path: Path, videos_dir: Path) -> None:
    """A portrait phone clip is stored landscape with a display matrix: 2D must come out in display pixels."""
    import av

    with av.open(str(videos_dir / SQUATS)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:30]
    upright = write_clip(tmp_path / "upright.mp4", frames)
    phone = write_clip(tmp_path / "phone.mp4", [np.ascontiguousarray(np.rot90(f)) for f in frames])
    set_mp4_rotation(phone, 90)  # stored 1280x720 turned a quarter anticlockwise; shown turned back
    a = capture(upright, 10, max_people=1, lifter=no_lift)
    b = capture(phone, 10, max_people=1, lifter=no_lift)
    assert a.image_size == b.image_size == (720, 1280)
    assert b.detected.all()
    # Not bit-identical: the two clips were encoded from differently laid-out pixels (measured 2.0 px mean, 9 px max).
    err = np.linalg.norm(b.points2d[b.keyframes] - a.points2d[a.keyframes], axis=-1)
    assert err.mean() < 3.0 and err.max() < 20.0, (err.mean(), err.max())


def test_no_person_at_all(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 40, (240, 320, 3), dtype=np.uint8) for _ in range(12)]
    with pytest.raises(NoPersonError, match="no person found"):
        capture(write_clip(tmp_path / "empty_room.mp4", frames), 3, lifter=no_lift)


def test_choosing_the_person_in_a_clip_with_several(videos_dir: Path) -> None:
    """Clip 04: a walker crosses the frame low down; a jumper stays on a box up in the middle, then jumps off.
    Who is "largest" is close here (both ~same size and time on screen), so the test identifies the two by
    where they are, and checks that each choice keeps one identity throughout."""
    largest = run(videos_dir / WALK, 5, person="largest")
    second = run(videos_dir / WALK, 5, person=1)
    central = run(videos_dir / WALK, 5, person="central")
    assert largest.stats.people_tracks >= 2 and largest.stats.people_max >= 2
    assert largest.stats.track_id != second.stats.track_id

    def pelvis(r: CaptureResult) -> np.ndarray:
        return r.points2d[r.keyframes[r.detected]][:, 0]

    walker, jumper = sorted([pelvis(largest), pelvis(second)], key=lambda p: -np.median(p[:, 1]))
    # The walker moves steadily leftwards near the ground, never picking up the jumper (above y=450).
    assert len(walker) >= 15 and (np.diff(walker[:, 0]) < 10).all() and (walker[:, 1] > 600).all()
    # The jumper's detections while on the box (x < 1000) all stay up there.
    on_box = jumper[jumper[:, 0] < 1000]
    assert len(on_box) >= 10 and (on_box[:, 1] < 450).all()
    np.testing.assert_array_equal(pelvis(central), jumper)  # the man on the box is nearer the centre
    assert any("people seen" in w for w in largest.warnings)


def test_cancel_is_prompt_and_progress_is_reported(videos_dir: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    polls = []

    def should_cancel() -> bool:
        polls.append(1)
        return len(polls) > 3

    with pytest.raises(CaptureCancelled):
        capture(videos_dir / DANCE, 2, progress=lambda *a: calls.append(a), should_cancel=should_cancel, lifter=no_lift)
    assert len(calls) == 3 and all(c[0] == "pose2d" and c[2] == 120 for c in calls)
    assert [c[1] for c in calls] == [1, 3, 5]

    calls.clear()
    capture(videos_dir / SQUATS, 10, progress=lambda *a: calls.append(a), lifter=no_lift)
    assert [c for c in calls if c[0] == "pose2d"][-2:] == [("pose2d", 61, 65), ("pose2d", 65, 65)]
    assert calls[-1] == ("uplift", 1, 1)


def test_auto_stride_keeps_the_first_pass_and_adds_where_the_person_moved(videos_dir: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    spy = SpyLift()
    res = capture(videos_dir / DANCE, "auto", progress=lambda *a: calls.append(a), lifter=spy)
    T, keys = 120, res.keyframes.tolist()
    assert res.stride_mode == "auto" and res.stride == 24 and res.report.stride == "auto"  # 0.8 s at 30 fps
    assert set(range(0, T, 24)) <= set(keys) and keys == sorted(set(keys)) and len(keys) > T // 24 + 1
    assert res.report.passes >= 2 and res.report.keyframes.tolist() == keys
    assert res.report.effective_stride == pytest.approx(T / len(keys))
    finite_rows = np.isfinite(res.points2d).all(axis=(1, 2))
    assert (finite_rows == np.isin(np.arange(T), res.keyframes[res.detected])).all()
    np.testing.assert_array_equal(spy.points2d, res.points2d)  # the lifter gets every key-frame, by time
    near = run(videos_dir / DANCE, 3)  # a refined frame is as good as one from a single pass
    both = sorted(set(keys) & set(near.keyframes.tolist()))
    assert len(both) >= 6
    assert np.abs(res.points2d[both] - near.points2d[both]).mean() < 3.0
    done = [c[1] for c in calls if c[0] == "pose2d"]
    assert done == sorted(done) and calls[-2] == ("uplift", 0, 1)
    assert [c for c in calls if c[0] == "pose2d"][-1] == ("pose2d", T, T)
    with pytest.raises(UpliftError, match="or 'auto'"):
        capture(videos_dir / DANCE, "fast", lifter=no_lift)


def test_captures_in_worker_threads(videos_dir: Path) -> None:
    """The add-on runs capture in a worker thread: two at once must not share state."""
    import threading

    out: dict[str, CaptureResult] = {}
    threads = [
        threading.Thread(target=lambda n=n: out.__setitem__(n, capture(videos_dir / n, 10, lifter=no_lift)))
        for n in (SQUATS, DANCE)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for n in (SQUATS, DANCE):
        np.testing.assert_allclose(out[n].points2d, run(videos_dir / n, 10).points2d, atol=1e-3, equal_nan=True)


def test_bad_arguments(videos_dir: Path) -> None:
    for kw, match in [
        ({"stride": 0}, "stride"),
        ({"person": "tallest"}, "person"),
        ({"frame_range": (50, 20)}, "frame range"),
        ({"frame_range": (500, None)}, "only 65"),
        ({"person": 4}, "only 1 person was seen"),
    ]:
        with pytest.raises(UpliftError, match=match):
            capture(videos_dir / SQUATS, **{"stride": 10, **kw}, lifter=no_lift)


def test_save_npz_roundtrip_without_pickle(tmp_path: Path, videos_dir: Path) -> None:
    res = run(videos_dir / SQUATS, 5)
    out = res.save_npz(tmp_path / "cap.npz")
    with np.load(out, allow_pickle=False) as z:
        assert {
            "joints3d",
            "points2d",
            "keyframes",
            "fps",
            "image_size",
            "timestamps",
            "world3d",
            "landmarks33",
            "detected",
            "meta",
        } <= set(z.files)
        np.testing.assert_array_equal(z["points2d"], res.points2d)
        assert z["joints3d"].shape == (65, 17, 3) and z["keyframes"].tolist() == list(range(0, 65, 5))
        assert float(z["fps"]) == 5.0 and z["image_size"].tolist() == [720, 1280]
        meta = json.loads(str(z["meta"]))
    assert meta["stride"] == 5 and meta["stats"]["detected"] == 13
    before = out.read_bytes()
    with pytest.raises(UpliftError, match="already exists"):
        res.save_npz(out)
    assert out.read_bytes() == before
    res.save_npz(out, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["cap.npz"]  # no temp files left
