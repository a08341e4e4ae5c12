"""One-key-frame detector glitches (inference/pose2d/glitches.py) on landmark tracks with known motion."""

from __future__ import annotations

import numpy as np

from inference.pose2d.glitches import GLITCH_BODY, glitches

HEIGHT = 400.0  # px, nose to ankles


def _track(centre: np.ndarray) -> np.ndarray:
    """[K,33,3] landmarks: a rigid body whose torso centre follows centre [K,2] (px), HEIGHT tall."""
    offsets = np.zeros((33, 2))
    offsets[:, 1] = np.linspace(-0.45, 0.55, 33) * HEIGHT
    offsets[0, 1], offsets[[27, 28], 1] = -0.45 * HEIGHT, 0.55 * HEIGHT  # nose on top, ankles at the bottom
    offsets[[11, 12, 23, 24], 1] = [-0.2 * HEIGHT, -0.2 * HEIGHT, 0.2 * HEIGHT, 0.2 * HEIGHT]
    offsets[[11, 23], 0], offsets[[12, 24], 0] = 40.0, -40.0
    lm = np.zeros((len(centre), 33, 3))
    lm[..., :2] = centre[:, None] + offsets
    return lm


def test_a_one_frame_leap_is_a_glitch_and_its_neighbours_are_not() -> None:
    t = np.arange(20) * 2 / 30  # stride 2 at 30 fps
    centre = np.stack([300 + 300 * t, np.full(20, 500.0)], axis=1)  # walking across at 300 px/s
    lm = _track(centre)
    lm[9, :, 0] -= 0.5 * HEIGHT  # a collapsed pose half a body height off
    lm[14, :, 0] += 0.25 * HEIGHT
    got = glitches(t, lm, np.ones(20, bool))
    assert np.flatnonzero(got).tolist() == [9, 14]


def test_real_motion_and_far_neighbours_are_not_glitches() -> None:
    t = np.arange(30) * 3 / 30  # stride 3 at 30 fps: neighbours 0.2 s apart, the widest gap judged
    px_per_m = HEIGHT / 1.7
    sway = 500 + 0.3 * px_per_m * np.sin(2 * np.pi * 1.5 * t)  # +-0.3 m at 1.5 Hz: 27 m/s^2 at the turns
    fall = 500 + 0.5 * 9.81 * t * (t - 0.6) * px_per_m  # a jump's parabola
    lm = _track(np.stack([sway, fall], axis=1))
    assert not glitches(t, lm, np.ones(30, bool)).any()
    sparse = np.arange(0, 30, 10) / 30 * 3  # stride 10 at 10 fps: neighbours 2 s apart say nothing
    lm3 = _track(np.array([[300.0, 500.0], [300.0 + 2 * GLITCH_BODY * HEIGHT, 500.0], [300.0, 500.0]]))
    assert not glitches(sparse, lm3, np.ones(3, bool)).any()


def test_misses_are_skipped_and_short_tracks_pass() -> None:
    t = np.arange(6) / 30
    centre = np.stack([np.full(6, 300.0), np.full(6, 500.0)], axis=1)
    lm = _track(centre)
    lm[2, :, 0] += 0.5 * HEIGHT
    lm[3] = np.nan  # a miss: key 2's neighbours are keys 1 and 4
    detected = np.isfinite(lm[..., :2]).all(axis=(1, 2))
    assert np.flatnonzero(glitches(t, lm, detected)).tolist() == [2]
    assert not glitches(t[:2], lm[:2], detected[:2]).any()
