"""inference.keyframes: the auto-stride rule on synthetic 2D (pure functions, no video)."""

from __future__ import annotations

import numpy as np
import pytest

from inference.keyframes.auto import (
    AutoStride,
    body_scale,
    effective_stride,
    even_keys,
    first_pass,
    interval_motion,
    motion,
    refine,
    refine_loop,
)
from inference.skeleton import INDEX

# A standing person ~400 px tall (x right, y down), joints in skeleton order.
STAND = np.array(
    [
        [500, 600],
        [480, 600],
        [480, 750],
        [480, 900],
        [520, 600],
        [520, 750],
        [520, 900],
        [500, 540],
        [500, 480],
        [500, 450],
        [500, 420],
        [540, 480],
        [560, 550],
        [570, 610],
        [460, 480],
        [440, 550],
        [430, 610],
    ],
    np.float32,
)


def clip_with_kick(T: int = 200, kick: tuple[int, int] = (92, 112), still_noise: float = 1.0) -> np.ndarray:
    """[T, 17, 2]: standing still (a little detector noise), a left kick (ankle out 250 px and back).
    The kick overlaps a first-pass key-frame: one that starts and ends between two of them is not seen
    (see docs/capture.md)."""
    rng = np.random.default_rng(0)
    pts = np.repeat(STAND[None], T, axis=0) + rng.normal(0, still_noise, (T, 17, 2)).astype(np.float32)
    a, b = kick
    phase = np.sin(np.linspace(0, np.pi, b - a + 1))
    pts[a : b + 1, INDEX["LAnkle"], 0] += 250 * phase
    pts[a : b + 1, INDEX["LAnkle"], 1] -= 200 * phase
    pts[a : b + 1, INDEX["LKnee"], 0] += 120 * phase
    pts[a : b + 1, INDEX["LKnee"], 1] -= 100 * phase
    return pts


def run_auto(pts: np.ndarray, cfg: AutoStride) -> tuple[np.ndarray, int]:
    seen = set(first_pass(len(pts), cfg).tolist())

    def observe(new: list[int]) -> tuple[np.ndarray, np.ndarray]:
        assert not seen & set(new), "a frame is never fetched twice"
        seen.update(new)
        keys = np.array(sorted(seen))
        return keys, pts[keys]

    keys = np.array(sorted(seen))
    keys, _, passes = refine_loop(observe, keys, pts[keys], len(pts), cfg)
    return keys, passes


def test_motion_is_in_body_heights_and_ignores_one_bad_joint() -> None:
    assert body_scale(STAND) == pytest.approx(3.0 * 120, rel=0.01)
    moved = STAND.copy()
    moved[INDEX["LWrist"]] += [36, 0]
    moved[INDEX["LElbow"]] += [36, 0]
    assert motion(STAND, moved, root_weight=0) == pytest.approx(0.1, rel=0.01)
    one = STAND.copy()
    one[INDEX["LWrist"]] += [300, 0]  # a single outlier joint is not motion
    assert motion(STAND, one, root_weight=0) < 0.01
    shifted = STAND + [72, 0]  # walking sideways: only the root term counts
    assert motion(STAND, shifted, root_weight=0.5) == pytest.approx(0.1, rel=0.01)
    assert motion(STAND * 2, shifted * 2, root_weight=0.5) == pytest.approx(0.1, rel=0.01)  # scale-free


def test_refine_adds_frames_in_proportion_to_motion() -> None:
    cfg = AutoStride(base=20, threshold=0.1, min_gap=2, grade=0)
    keys = np.array([0, 20, 40, 60])
    pts = np.repeat(STAND[None], 4, axis=0)
    pts[2, INDEX["LAnkle"]] += [0, -90]  # 0.25 body heights between 20 and 40 and back
    pts[2, INDEX["LKnee"]] += [0, -90]
    new = refine(keys, pts, 61, cfg)
    assert new == [27, 33, 47, 53]  # ceil(0.25 / 0.1) - 1 = 2 evenly spaced in each moving interval
    assert refine(keys, np.repeat(STAND[None], 4, axis=0), 61, cfg) == []  # still: nothing to add
    assert refine(np.array([0, 2, 4]), pts[:3], 5, cfg) == []  # no room at min_gap
    assert refine(np.array([0, 20]), np.repeat(STAND[None], 2, axis=0), 60, cfg) == [59]  # the tail
    graded = refine(keys, pts, 61, AutoStride(base=20, threshold=0.1, grade=1.5))
    assert graded == [10, 27, 33, 47, 53]  # spacing 20 next to 6.7 is too abrupt: 0..20 is split too


def test_refine_looks_for_the_edge_of_a_lost_stretch() -> None:
    pts = np.repeat(STAND[None], 4, axis=0)
    pts[2:] = np.nan
    assert refine(np.array([0, 20, 40, 60]), pts, 61, AutoStride(base=20)) == [30]
    assert refine(np.array([0, 20, 40, 60]), pts, 61, AutoStride(base=20, edges=False)) == []


def test_auto_spends_calls_on_the_kick_not_on_standing_still() -> None:
    pts = clip_with_kick()
    cfg = AutoStride(base=20, threshold=0.12, grade=0)
    keys, passes = run_auto(pts, cfg)
    assert passes >= 2
    inside = keys[(keys >= 90) & (keys <= 115)]
    assert len(inside) >= 5, keys  # the kick is sampled densely ...
    extra = sorted(set(keys.tolist()) - set(range(0, 200, 20)) - {199})
    assert extra and min(extra) > 80 and max(extra) < 120, keys  # ... and the rest at the base stride
    gaps = np.diff(keys)
    assert gaps.min() >= cfg.min_gap and gaps.max() <= cfg.base
    still = clip_with_kick(kick=(0, 0))
    keys_still, passes_still = run_auto(still, AutoStride())
    assert passes_still <= 2 and len(keys_still) <= 11 and effective_stride(200, len(keys_still)) >= 18


def test_graded_spacing_changes_gradually_around_the_kick() -> None:
    cfg = AutoStride()  # the defaults
    keys, _ = run_auto(clip_with_kick(), cfg)
    assert len(keys[(keys >= 90) & (keys <= 115)]) >= 5
    gaps = np.diff(keys).astype(float)
    ratio = np.maximum(gaps[1:] / gaps[:-1], gaps[:-1] / gaps[1:])
    assert ratio.max() < 4, gaps  # 1.5 per sweep, one sweep per pass: no 20 -> 2 cliff
    far_after = keys[keys >= 112 + 2 * cfg.base]  # the kick ends at 112: two base intervals on, the base again
    assert (np.diff(keys[keys <= cfg.base]) == cfg.base).all() and (np.diff(far_after) >= cfg.base - 1).all()
    assert len(keys) < 200 / 6  # still far from every frame


def test_interval_motion_and_baseline_helpers() -> None:
    pts = np.repeat(STAND[None], 3, axis=0)
    pts[1] = np.nan
    assert np.isnan(interval_motion(np.array([0, 5, 10]), pts)).all()
    k = even_keys(100, 11)
    assert len(k) == 11 and k[0] == 0 and k[-1] == 99 and set(np.diff(k)) <= {9, 10}
    assert even_keys(5, 50).tolist() == [0, 1, 2, 3, 4]
    assert effective_stride(100, 8) == 12.5
    with pytest.raises(ValueError):
        AutoStride(threshold=0)


def test_first_pass_spacing_is_in_seconds_for_the_clips_rate() -> None:
    cfg = AutoStride()
    assert cfg.at_fps(30).base == 24 and cfg.at_fps(60).base == 48 and cfg.at_fps(25).base == 20
    assert cfg.at_fps(5).base == 4 and AutoStride(min_gap=3).at_fps(2).base == 3  # never below the min gap
    assert cfg.at_fps(0).base == cfg.at_fps(float("nan")).base == cfg.base  # unknown rate: `base` frames
    assert AutoStride(base=20, base_seconds=None).at_fps(60).base == 20
    with pytest.raises(ValueError):
        AutoStride(base_seconds=0)
