"""retarget_motion end to end on real mocap seen through a simulated, tilted camera."""

from __future__ import annotations

import numpy as np
import pytest
from retarget_sim import Camera, load_clip, simulate

from retarget import contact, coords
from retarget.fk import forward_kinematics
from retarget.motion import RetargetOptions, retarget_motion
from retarget.skeleton import FEET, INDEX as J


def _grounded(mocap_dir, name: str) -> tuple[np.ndarray, float]:
    world, fps = load_clip(mocap_dir, name)
    ank = world[:, list(FEET)]
    world[..., 2] -= contact.floor_level(ank[..., 2], fps, ank[..., :2]) - 0.08
    return world, fps


def _camera(
    world: np.ndarray, pitch_target_z: float = 0.8, height: float = 1.5, side: float = 0.8, roll: float = 3.0
) -> Camera:
    ctr = world[:, 0].mean(axis=0)
    return Camera(
        position=ctr + np.array([side, -5.0, height - ctr[2]]),
        target=ctr * [1, 1, 0] + [0, 0, pitch_target_z],
        roll_deg=roll,
    )


def _truth_in_level_camera_frame(world: np.ndarray, cam: Camera) -> np.ndarray:
    """Ground-truth joints in the frame retarget should produce: camera heading, Z up, floor at 0."""
    r = coords.cam_to_world_matrix(cam.up_cam) @ cam.world_to_cam
    out = (world - cam.position) @ r.T
    out[..., 2] += cam.position[2]
    return out


@pytest.mark.parametrize(
    "name,cam_kw",
    [
        ("cmuexp_test_walking_11", {}),  # walk towards the camera
        ("cmu_005_01", {"pitch_target_z": 0.3, "height": 2.0, "roll": -6.0}),  # steeper, rolled the other way
        ("cmuexp_train_jumping_4", {}),  # jumps: flight phases
    ],
)
def test_tilted_camera_recovers_up_floor_and_path(mocap_dir, name: str, cam_kw: dict) -> None:
    world, fps = _grounded(mocap_dir, name)
    cam = _camera(world, **cam_kw)
    rel, p2 = simulate(world, cam, stride=5, noise_px=1.0)
    m = retarget_motion(
        rel, fps=fps, points2d=p2, image_size=cam.image_size, options=RetargetOptions(fov_deg=cam.fov_deg)
    )
    tilt = np.degrees(np.arccos(cam.up_cam @ coords.CAMERA_UP))
    up_err = np.degrees(np.arccos(np.clip(m.floor.up_cam @ cam.up_cam, -1, 1)))
    truth = _truth_in_level_camera_frame(world, cam)
    root_err = np.linalg.norm(m.root - truth[:, 0], axis=-1)
    path = np.linalg.norm(np.ptp(truth[:, 0, :2], axis=0))
    c = m.contacts
    ank_h = m.joints[:, list(FEET), 2][c]
    print(
        f"{name}: camera tilted {tilt:.1f} deg; up error {up_err:.2f} deg ({m.floor.up_method}); camera height "
        f"{m.floor.camera_height:.2f} m (true {cam.position[2]:.2f}); root error mean {root_err.mean() * 100:.1f} cm "
        f"max {root_err.max() * 100:.1f} cm over a {path:.2f} m path; pelvis height range {np.ptp(m.root[:, 2]):.2f} m "
        f"(true {np.ptp(truth[:, 0, 2]):.2f}); ankle height in contact {np.median(ank_h) * 100:.1f} cm"
    )
    assert tilt > 8.0
    assert up_err < 4.0
    assert abs(m.floor.camera_height - cam.position[2]) < 0.35  # 5 m away, 1 degree of up error ~ 9 cm
    assert root_err.mean() < 0.08
    assert abs(np.median(ank_h) - 0.08) < 0.01
    assert (m.joints[..., 2] >= -1e-9).all()
    assert abs(np.ptp(m.root[:, 2]) - np.ptp(truth[:, 0, 2])) < 0.1


def test_motion_is_consistent_with_forward_kinematics(mocap_dir) -> None:
    """The contract rig mapping relies on: FK(rest_joints, rotations, root) reproduces Motion.joints."""
    world, fps = _grounded(mocap_dir, "cmu_005_01")
    cam = _camera(world)
    rel, p2 = simulate(world, cam, stride=5, noise_px=2.0)
    m = retarget_motion(rel, fps=fps, points2d=p2, image_size=cam.image_size)
    back = forward_kinematics(m.rest_joints, m.rotations, m.root)
    err = np.linalg.norm(back - m.joints, axis=-1)
    print(f"FK of the Motion vs its joints: max {err.max() * 1e6:.3f} um")
    assert err.max() < 1e-6
    for q in m.rotations.values():
        assert (np.sum(q[1:] * q[:-1], axis=-1) >= 0).all()


def test_field_of_view_scales_depth_only(mocap_dir) -> None:
    """A wrong assumed FOV stretches depth by f_assumed / f_true; sideways motion is unaffected."""
    world, fps = _grounded(mocap_dir, "cmuexp_test_walking_11")
    cam = _camera(world)
    rel, p2 = simulate(world, cam, stride=5)
    truth = _truth_in_level_camera_frame(world, cam)[:, 0]
    for fov in (45.0, 75.0):
        m = retarget_motion(rel, fps=fps, points2d=p2, image_size=cam.image_size, options=RetargetOptions(fov_deg=fov))
        expected = np.tan(np.radians(cam.fov_deg / 2)) / np.tan(np.radians(fov / 2))
        ratio = np.median(m.root[:, 1]) / np.median(truth[:, 1])
        lateral = np.abs(m.root[:, 0] - truth[:, 0]).mean()
        print(
            f"assumed FOV {fov:.0f} (true {cam.fov_deg:.0f}): depth ratio {ratio:.3f} (expected {expected:.3f}), "
            f"sideways error {lateral * 100:.1f} cm"
        )
        assert abs(ratio - expected) < 0.05
        assert lateral < 0.03


def test_root_motion_modes(mocap_dir) -> None:
    world, fps = _grounded(mocap_dir, "cmuexp_train_jumping_4")
    cam = _camera(world)
    rel, p2 = simulate(world, cam, stride=5)
    kw = dict(fps=fps, points2d=p2, image_size=cam.image_size)
    inplace = retarget_motion(rel, **kw, options=RetargetOptions(root_motion="in_place"))
    assert np.abs(inplace.root[:, :2]).max() < 1e-9
    assert np.ptp(inplace.root[:, 2]) > 0.3  # the jumps are kept
    none = retarget_motion(rel, **kw, options=RetargetOptions(root_motion="none", ground=False))
    assert np.ptp(none.root, axis=0).max() < 1e-9
    first = retarget_motion(rel, **kw, options=RetargetOptions(facing="first"))
    yaw0 = np.degrees(np.median(coords.facing_yaw(first.joints[: int(fps)])))
    print(f"facing='first': heading over the first second {yaw0:.2f} deg")
    assert abs(yaw0) < 1.0


def test_without_2d_the_feet_drive_the_root(mocap_dir) -> None:
    world, fps = _grounded(mocap_dir, "cmuexp_test_walking_11")
    cam = _camera(world)
    rel, _ = simulate(world, cam)
    m = retarget_motion(rel, fps=fps)
    walked = np.linalg.norm(m.root[-1, :2] - m.root[0, :2])
    true = np.linalg.norm(world[-1, 0, :2] - world[0, 0, :2])
    low = m.joints[:, list(FEET), 2].min(axis=1)
    print(
        f"no 2D: root from {m.root_source}, walked {walked:.2f} m (true {true:.2f} m), lowest ankle "
        f"{low.min() * 100:.1f}-{low.max() * 100:.1f} cm"
    )
    assert m.root_source == "feet"
    assert 0.5 * true < walked < 1.2 * true  # ankle odometry under-reads: the foot rolls over its toes
    assert np.abs(low - 0.08).max() < 0.02


def test_bad_input_is_refused_clearly() -> None:
    ok = np.zeros((10, 17, 3))
    with pytest.raises(ValueError, match=r"\[T, 17, 3\]"):
        retarget_motion(np.zeros((10, 16, 3)), fps=30)
    with pytest.raises(ValueError, match="fps"):
        retarget_motion(ok, fps=0)
    with pytest.raises(ValueError, match="image_size"):
        retarget_motion(ok, fps=30, points2d=np.zeros((10, 17, 2)))
    with pytest.raises(ValueError, match="no finite frame"):
        retarget_motion(np.full((10, 17, 3), np.nan), fps=30)
    with pytest.raises(ValueError, match="root_motion"):
        retarget_motion(ok, fps=30, options=RetargetOptions(root_motion="walk"))
