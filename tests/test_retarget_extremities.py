"""retarget/extremities.py on synthetic MediaPipe landmarks (tests/landmark_sim.py, no bpy): a known head
turn, forearm roll and foot pitch come out through a MediaPipe-like frame (tilted, y down, either
handedness); missing key-frames hold then ease; feet never go under the floor and planted feet are flat."""

from __future__ import annotations

import landmark_sim as S
import numpy as np
import pytest

from retarget import extremities, feet, keyed
from retarget import quat as Q

UP, X = np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
T = 61
ROWS = np.arange(0, T, 3)


@pytest.mark.parametrize("left_handed", [False, True])
def test_head_yaw_follows_a_head_turn(left_handed: bool) -> None:
    m = S.standing(T)
    truth = 70 * np.sin(np.linspace(0, 2 * np.pi, T))
    w = S.world33(m, ROWS, head_rel=S.yaw(truth), axes=S.mp_axes(12.0, left_handed))
    rot = extremities.drive(m, w, ROWS).rotations
    rel = Q.mul(Q.conj(m.rotations["chest"]), rot["head"])
    err = np.abs(np.degrees(Q.twist_angle_wrapped(rel, UP)) - truth)
    print(f"head yaw error: mean {err.mean():.2f}, max {err.max():.2f} deg")
    assert err.mean() < 1.0 and err.max() < 2.0
    neck = np.degrees(Q.twist_angle_wrapped(Q.mul(Q.conj(m.rotations["chest"]), rot["neck"]), UP))
    np.testing.assert_allclose(neck, 0.4 * np.degrees(Q.twist_angle_wrapped(rel, UP)), atol=1.0)  # the split


def test_head_turn_is_clamped_to_a_neck_range() -> None:
    m = S.standing(T)
    w = S.world33(m, ROWS, head_rel=S.yaw(np.full(T, 150.0)))
    rel = Q.mul(Q.conj(m.rotations["chest"]), extremities.drive(m, w, ROWS).rotations["head"])
    assert np.degrees(np.abs(Q.twist_angle_wrapped(rel, UP))).max() <= 90.0 + 1e-6


def test_forearm_roll_and_hand_follow_the_hand_landmarks() -> None:
    m = S.standing(T)
    roll = 90 * np.sin(np.linspace(0, 2 * np.pi, T))
    for side, axis in (("L", X), ("R", -X)):
        hand = Q.mul(Q.from_axis_angle(axis, np.radians(roll)), Q.from_axis_angle(UP, np.radians(np.full(T, 25.0))))
        w = S.world33(m, ROWS, hand_rel=hand)
        rot = extremities.drive(m, w, ROWS).rotations
        fore = Q.mul(Q.conj(m.rotations[f"forearm.{side}"]), rot[f"forearm.{side}"])
        err = np.abs(np.degrees(Q.twist_angle_wrapped(fore, axis)) - roll)
        hand_err = np.degrees(Q.angle_between(rot[f"hand.{side}"], Q.mul(m.rotations[f"forearm.{side}"], hand)))
        print(f"{side}: roll error mean {err.mean():.2f} max {err.max():.2f}; hand {hand_err.max():.2f} deg")
        assert err.mean() < 2.0 and err.max() < 4.0 and hand_err.max() < 4.0


def test_hands_off_leaves_forearms_alone() -> None:
    m = S.standing(T)
    rot = extremities.drive(m, S.world33(m, ROWS), ROWS, hands="off").rotations
    assert not {"hand.L", "hand.R", "forearm.L", "forearm.R"} & set(rot)
    assert {"head", "neck", "foot.L", "foot.R"} <= set(rot)
    assert extremities.drive(m, None, ROWS).rotations == {}


def test_missing_key_frames_hold_then_ease_to_neutral() -> None:
    m = S.standing(90)
    rows = np.arange(0, 90, 3)
    w = S.world33(m, rows, head_rel=S.yaw(np.full(90, 60.0)))
    w[10:] = np.nan  # lost from frame 30 (1 s) on
    rel = Q.mul(Q.conj(m.rotations["chest"]), extremities.drive(m, w, rows).rotations["head"])
    yaw = np.degrees(Q.twist_angle_wrapped(rel, UP))
    assert abs(yaw[35] - 60) < 2.0  # held for 0.4 s
    assert abs(yaw[-1]) < 1.0  # back to neutral after 0.4 + 0.6 s
    assert np.abs(np.diff(yaw)).max() < 8.0  # eased, no jump


def test_smoothing_is_on_rotations_and_keeps_them_unit() -> None:
    q = Q.from_axis_angle(UP, np.radians(np.linspace(0, 170, 40)))
    q[::2] *= -1  # sign flips: the same rotations
    s = keyed.smooth(q, 2.0)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-9)
    assert np.degrees(Q.angle_between(s, q)).max() < 1.0


def test_foot_pitch_rolls_with_the_ankle_and_never_goes_under_the_floor() -> None:
    u = np.clip((np.linspace(0, 1, T) - 0.2) / 0.6, 0, 1)
    ankle_z = S.ANKLE_H + 0.12 * np.sin(np.pi * u) ** 2  # a step: the left foot leaves the floor and lands
    m = S.standing(T, ankle_z=ankle_z)
    truth = np.radians(-40 * np.sin(2 * np.pi * u))  # toe down while rising, toe up while landing
    ext = extremities.drive(m, S.world33(m, ROWS, foot_pitch=truth), ROWS)
    pitch = ext.foot_pitch[:, 0]
    toe, heel = ext.sole["L"]
    for off in ((toe, -S.ANKLE_H), (-heel, -S.ANKLE_H)):  # (forward, up) of the toe tip and the heel
        z = ankle_z + off[0] * np.sin(pitch) + off[1] * np.cos(pitch)
        assert z.min() > -1e-9, f"sole point under the floor by {-z.min() * 100:.2f} cm"
    planted = feet._fade(m.contacts[:, 0], m.fps) > 1 - 1e-9  # planted, away from the fade in and out
    assert planted.sum() > 10 and np.abs(pitch[planted]).max() < 1e-9  # flat while planted
    assert np.degrees(np.ptp(pitch)) > 30.0, "the foot should pitch in the air"
    free = (ankle_z > 0.15) & (np.abs(truth) < np.radians(30))
    assert np.degrees(np.abs(pitch[free] - truth[free])).max() < 5.0  # follows the landmarks where unconstrained
    np.testing.assert_allclose(ext.foot_pitch[:, 1], 0.0, atol=1e-9)  # the right foot stays planted
    q = ext.rotations["foot.L"]
    np.testing.assert_allclose(np.degrees(Q.twist_angle_wrapped(q, X)), -np.degrees(pitch), atol=1e-6)


def test_toes_stay_on_the_floor_while_the_heel_is_up() -> None:
    t = np.linspace(0, 1, T)
    ankle_z = S.ANKLE_H + 0.06 * np.sin(np.pi * t) ** 2  # heel rises over the ball of the foot and comes down
    m = S.standing(T, ankle_z=ankle_z)
    truth = np.radians(-35 * np.sin(np.pi * t) ** 2)
    ext = extremities.drive(m, S.world33(m, ROWS, foot_pitch=truth), ROWS)
    pitch = ext.foot_pitch[:, 0]
    toe = np.degrees(Q.twist_angle_wrapped(ext.rotations["toe.L"], X))  # + = toes down in world
    foot = np.degrees(Q.twist_angle_wrapped(ext.rotations["foot.L"], X))
    up = pitch < np.radians(-10)
    assert up.sum() > 10, "the heel should come up"
    assert np.abs(toe[up]).max() < 0.5 * np.abs(foot[up]).min(), "toes should stay flatter than the foot"
    np.testing.assert_allclose(toe[~up & (np.abs(pitch) < 1e-9)], 0.0, atol=1e-6)


def test_a_hand_mediapipe_barely_sees_is_not_used() -> None:
    m = S.standing(90)
    rows = np.arange(0, 90, 3)
    hand = np.tile(Q.from_axis_angle(X, np.radians(60.0)), (90, 1))  # both forearms rolled 60 deg about +X
    w = S.world33(m, rows, hand_rel=hand)
    vis = np.ones((len(rows), 33))
    vis[10:, [16, 18, 20, 22]] = 0.1  # the right hand fades from view at frame 30 (the far arm turned away)
    rot = extremities.drive(m, w, rows, visibility=vis).rotations

    def roll(side: str) -> np.ndarray:
        rel = Q.mul(Q.conj(m.rotations[f"forearm.{side}"]), rot[f"forearm.{side}"])
        return np.degrees(Q.twist_angle_wrapped(rel, X))

    assert abs(roll("L")[-1] - 60) < 2.0  # seen throughout
    assert abs(roll("R")[20] - 60) < 2.0 and abs(roll("R")[-1]) < 1.0  # then held, then eased to neutral
    unseen = extremities.drive(m, w, rows, visibility=np.zeros((len(rows), 33))).rotations
    np.testing.assert_allclose(Q.angle_between(unseen["head"], m.rotations["chest"]), 0.0, atol=1e-6)
