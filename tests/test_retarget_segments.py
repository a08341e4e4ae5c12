"""Segment rotations on real mocap: FK round trip, sign continuity, twist from hip/shoulder lines."""

from __future__ import annotations

import numpy as np
import pytest
from retarget_sim import load_clip

from retarget import fk, quat, segments, skeleton

CLIPS = {  # name -> what it exercises
    "cmuexp_test_walking_11": "walk",
    "cmuexp_train_jumping_4": "jump",
    "cmu_005_11": "dance: sideways steps, pirouette",
    "hdm05_bk_squat1Reps_019_120": "squat",
    "hdm05_mm_lieDownFloor_015_120": "lie down on the floor",
}


def test_skeleton_copy_matches_inference() -> None:
    from inference import skeleton as inf

    assert skeleton.JOINT_NAMES == inf.JOINT_NAMES
    assert skeleton.PARENTS == inf.PARENTS
    assert skeleton.FLIP_PERM == inf.FLIP_PERM
    assert skeleton.BONES == inf.BONES


def test_rest_pose_gives_identity_and_lengths() -> None:
    lengths = np.arange(17) * 0.01 + 0.05
    lengths[0] = 0.0
    lengths = 0.5 * (lengths + lengths[list(skeleton.FLIP_PERM)])
    rest = segments.rest_skeleton(lengths)
    assert np.allclose(segments.bone_lengths(rest[None]), lengths)
    rots = segments.world_rotations(np.repeat(rest[None], 3, axis=0))
    assert set(rots) == set(segments.SEGMENTS)
    for q in rots.values():
        assert np.allclose(np.abs(q[:, 0]), 1.0, atol=1e-9)
    # Canonical frame: Z up, faces -Y, left at +X.
    assert rest[skeleton.INDEX["Head"], 2] > 0 > rest[skeleton.INDEX["LAnkle"], 2]
    assert rest[skeleton.INDEX["LWrist"], 0] > 0 > rest[skeleton.INDEX["RWrist"], 0]


@pytest.mark.parametrize("name", list(CLIPS))
def test_fk_round_trip_on_real_mocap(mocap_dir, name: str) -> None:
    world, _ = load_clip(mocap_dir, name)
    lengths = segments.bone_lengths(world)
    target = fk.normalize_bone_lengths(world, lengths)
    rots = segments.world_rotations(world)  # from the raw joints: only directions matter
    back = fk.forward_kinematics(segments.rest_skeleton(lengths), rots, world[:, 0])
    err = np.linalg.norm(back - target, axis=-1)
    raw = np.linalg.norm(back - world, axis=-1)
    print(
        f"{name} ({CLIPS[name]}, {len(world)} frames): FK vs length-normalised input mean "
        f"{err.mean() * 1e3:.3f} mm max {err.max() * 1e3:.3f} mm; vs raw input mean {raw.mean() * 1e3:.1f} mm "
        f"max {raw.max() * 1e3:.1f} mm"
    )
    assert err.mean() < 0.015
    assert err.max() < 0.015
    for q in rots.values():
        assert np.allclose(np.linalg.norm(q, axis=-1), 1.0)
        assert (np.sum(q[1:] * q[:-1], axis=-1) >= 0).all(), "quaternion sign flip between frames"


def test_rotations_are_smooth_over_time(mocap_dir) -> None:
    """No segment's rotation jumps between frames (the bend-plane twist fades to the parent's when a limb
    straightens instead of flipping). Threshold: 25 degrees per frame at 60 fps (a fast pirouette is ~10)."""
    world, fps = load_clip(mocap_dir, "cmu_005_11")
    rots = segments.world_rotations(world)
    worst = {n: np.degrees(quat.angle_between(q[1:], q[:-1]).max()) for n, q in rots.items()}
    print("max rotation step per frame (deg):", {n: round(v, 1) for n, v in worst.items()})
    assert max(worst.values()) < 25.0


def test_twist_follows_hip_and_shoulder_lines(mocap_dir) -> None:
    world, _ = load_clip(mocap_dir, "cmu_005_11")
    rots = segments.world_rotations(world)
    J = skeleton.INDEX
    x = np.array([1.0, 0.0, 0.0])
    hip_line = quat.normalize(world[:, J["LHip"]] - world[:, J["RHip"]])
    assert np.allclose(quat.rotate(rots["hips"], x), hip_line, atol=1e-9)  # exact axis of the hips
    chest_axis = quat.normalize(world[:, J["Thorax"]] - world[:, J["Spine"]])
    sh = world[:, J["LShoulder"]] - world[:, J["RShoulder"]]
    sh_perp = quat.normalize(sh - np.sum(sh * chest_axis, -1, keepdims=True) * chest_axis)
    assert np.allclose(quat.rotate(rots["chest"], x), sh_perp, atol=1e-9)


def test_upper_body_twist_splits_between_spine_and_chest(mocap_dir) -> None:
    """Turn the upper body 40 degrees about the vertical: chest twist +40, lower spine about +20, hips 0."""
    world, _ = load_clip(mocap_dir, "cmuexp_test_walking_11")
    frame = world[100].copy()
    J = skeleton.INDEX
    upper = [J[n] for n in ("Thorax", "Neck", "Head", "LShoulder", "LElbow", "LWrist", "RShoulder", "RElbow", "RWrist")]
    pivot = frame[J["Spine"]]
    turn = quat.to_matrix(quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.radians(40.0)))
    twisted = frame.copy()
    twisted[upper] = (frame[upper] - pivot) @ turn.T + pivot
    a, b = segments.world_rotations(frame[None]), segments.world_rotations(twisted[None])
    up = np.array([0.0, 0.0, 1.0])

    def yaw(name: str) -> float:
        rel = quat.mul(b[name], quat.conj(a[name]))[0]
        return float(np.degrees(quat.twist_angle(rel, up)))

    print({n: round(yaw(n), 1) for n in ("hips", "spine", "chest", "upper_arm.L")})
    assert abs(yaw("hips")) < 0.5
    assert abs(yaw("chest") - 40.0) < 5.0
    assert 10.0 < yaw("spine") < 30.0


def test_bend_plane_sets_upper_arm_roll() -> None:
    """Elbow bent forward vs. bent upward at the same upper-arm direction: the upper arm rolls 90 degrees
    about its own axis (twist comes from the bend plane, not only from the bone direction)."""
    lengths = np.full(17, 0.25)
    lengths[0] = 0.0
    rest = segments.rest_skeleton(lengths)
    J = skeleton.INDEX
    fwd, up = rest.copy(), rest.copy()
    fwd[J["LWrist"]] = fwd[J["LElbow"]] + [0.0, -0.25, 0.0]  # forearm forward (-Y): the rest bend plane
    up[J["LWrist"]] = up[J["LElbow"]] + [0.0, 0.0, 0.25]  # forearm up
    qf = segments.world_rotations(fwd[None])["upper_arm.L"][0]
    qu = segments.world_rotations(up[None])["upper_arm.L"][0]
    assert np.degrees(quat.angle_between(qf, np.array([1.0, 0, 0, 0]))) < 1e-6
    rel = quat.mul(qu, quat.conj(qf))
    assert abs(abs(np.degrees(quat.twist_angle(rel, np.array([1.0, 0.0, 0.0])))) - 90.0) < 1e-6


def test_foot_heading_turn_keeps_only_the_turn_about_up():
    """Feet take the shin's heading only: a tilted, turned shin gives a pure turn about world Z."""
    from scipy.spatial.transform import Rotation

    from retarget.rigmap import heading_turn

    m = (
        Rotation.from_euler("z", [30, -120, 0], degrees=True) * Rotation.from_euler("x", [40, -25, 70], degrees=True)
    ).as_matrix()
    turn = Rotation.from_matrix(heading_turn(m))
    np.testing.assert_allclose(
        turn.as_rotvec(), Rotation.from_euler("z", [30, -120, 0], degrees=True).as_rotvec(), atol=1e-9
    )
