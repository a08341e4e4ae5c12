"""Foot contacts, foot locking and grounding on real mocap walks."""

from __future__ import annotations

import numpy as np
import pytest
from retarget_sim import Camera, load_clip, simulate

from retarget import contact, gravity, smoothing
from retarget.motion import RetargetOptions, retarget_motion
from retarget.skeleton import FEET
from retarget.skeleton import INDEX as J

WALK = "cmuexp_test_walking_11"


def _on_floor(mocap_dir, name: str) -> tuple[np.ndarray, float]:
    """A mocap clip (world, Z up) shifted so that its standing ankle is at 8 cm, and its fps."""
    world, fps = load_clip(mocap_dir, name)
    ank = world[:, list(FEET)]
    world[..., 2] -= contact.floor_level(ank[..., 2], fps, ank[..., :2]) - 0.08
    return world, fps


@pytest.fixture(scope="module")
def walk(mocap_dir) -> tuple[np.ndarray, float]:
    return _on_floor(mocap_dir, WALK)


def test_contacts_on_a_real_walk(walk) -> None:
    world, fps = walk
    ank = world[:, list(FEET)]
    c = contact.detect_contacts(ank, fps)
    stance = c.mean(axis=0)
    runs = [contact._runs(c[:, f]) for f in range(2)]
    starts = sorted((s, f) for f in range(2) for s, _ in runs[f] if s > 0)
    alternating = all(a[1] != b[1] for a, b in zip(starts, starts[1:]))
    double = float((c[:, 0] & c[:, 1]).mean())
    speed = contact.foot_speed(ank, fps)
    print(
        f"{WALK}: stance fraction L {stance[0]:.2f} R {stance[1]:.2f}, double support {double:.2f}, "
        f"touch-downs {[f for _, f in starts]}, foot speed in contact median {np.median(speed[c]):.3f} m/s "
        f"vs swing {np.median(speed[~c]):.2f} m/s"
    )
    assert all(len(r) >= 2 for r in runs)
    assert alternating
    assert ((stance > 0.45) & (stance < 0.8)).all()
    assert 0.02 < double < 0.4
    assert np.median(speed[c]) < 0.15 < 1.0 < np.median(speed[~c])
    assert ank[..., 2][c].mean() + 0.03 < ank[..., 2][~c].mean()


def _noisy_capture(world: np.ndarray, fps: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, Camera]:
    """A clip as capture would return it: 2D with pixel noise on every 5th frame, 3D with smooth errors."""
    ctr = world[:, 0].mean(axis=0)
    cam = Camera(position=ctr + np.array([0.8, -5.0, 1.5 - ctr[2]]), target=ctr * [1, 1, 0] + [0, 0, 0.8], roll_deg=3.0)
    rel, p2 = simulate(world, cam, stride=5, noise_px=2.0, seed=seed)
    noise = smoothing.butterworth(np.random.default_rng(seed).normal(0, 0.03, rel.shape), fps, 3.0)
    noise[:, 0] = 0.0
    return rel + noise, p2, cam


def _slide(joints: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Horizontal ankle motion per frame (m) on frames where that foot is in contact on both frames."""
    step = np.linalg.norm(np.diff(joints[:, list(FEET), :2], axis=0), axis=-1)
    return step[contacts[1:] & contacts[:-1]]


def test_foot_locking_removes_sliding(walk) -> None:
    world, fps = walk
    rel, p2, cam = _noisy_capture(world, fps)
    locked = retarget_motion(rel, fps=fps, points2d=p2, image_size=cam.image_size)
    free = retarget_motion(
        rel, fps=fps, points2d=p2, image_size=cam.image_size, options=RetargetOptions(foot_lock=False)
    )
    s_lock, s_free = _slide(locked.joints, locked.contacts), _slide(free.joints, locked.contacts)
    print(
        f"sliding in contact per frame at {fps:.0f} fps: locked mean {s_lock.mean() * 1e3:.2f} mm max "
        f"{s_lock.max() * 1e3:.2f} mm; unlocked mean {s_free.mean() * 1e3:.2f} mm max {s_free.max() * 1e3:.2f} mm; "
        f"contact fraction {locked.contacts.mean(0).round(2)}"
    )
    assert locked.contacts.mean() > 0.4
    assert s_lock.max() < 0.01
    assert s_free.mean() > 2 * s_lock.mean() + 1e-4  # the input really slides: locking did the work
    # Thigh and shin keep their lengths through the IK.
    for hip, knee, ank in ((J["LHip"], J["LKnee"], J["LAnkle"]), (J["RHip"], J["RKnee"], J["RAnkle"])):
        for a, b in ((hip, knee), (knee, ank)):
            d = np.linalg.norm(locked.joints[:, a] - locked.joints[:, b], axis=-1)
            assert np.ptp(d) < 1e-6


def test_locking_at_30fps_with_sparse_keys(walk) -> None:
    world, fps = walk
    world30 = world[::4]
    rel, p2, cam = _noisy_capture(world30, fps / 4, seed=3)
    p2[np.arange(len(p2)) % 10 != 0] = np.nan  # stride 10 at 30 fps
    m = retarget_motion(rel, fps=fps / 4, points2d=p2, image_size=cam.image_size)
    s = _slide(m.joints, m.contacts)
    print(f"30 fps, stride 10: contact fraction {m.contacts.mean(0).round(2)}, sliding max {s.max() * 1e3:.2f} mm")
    assert m.contacts.mean() > 0.3
    assert s.max() < 0.01


def test_grounding_keeps_everything_above_the_floor(walk) -> None:
    world, fps = walk
    sunk = world.copy()
    sunk[100:130, :, 2] -= 0.1  # a glitch: the body dips 10 cm into the floor
    out, lift = contact.ground(sunk, fps, ankle_height=0.08)
    assert (out[..., 2] >= -1e-9).all()
    assert (out[:, list(FEET), 2] >= 0.08 - 1e-9).all()
    _, lift0 = contact.ground(world, fps, ankle_height=0.08)  # real heel strikes dip a little too
    extra = lift - lift0
    assert np.abs(extra[:85]).max() == 0.0 and np.abs(extra[145:]).max() == 0.0  # only around the glitch
    assert extra[100:130].min() >= 0.1 - 0.02
    assert np.abs(np.diff(lift)).max() < 0.05  # eased in, not snapped


def _lean_deg(joints: np.ndarray) -> np.ndarray:
    """Thorax-over-ankles angle from vertical per frame (degrees)."""
    v = joints[:, J["Thorax"]] - 0.5 * (joints[:, J["LAnkle"]] + joints[:, J["RAnkle"]])
    return np.degrees(np.arccos(v[:, 2] / np.linalg.norm(v, axis=1)))


def test_sliding_stance_feet_are_not_pinned_into_a_lean(walk) -> None:
    """A lifter that damps the legs (what a v2 candidate did: extremities at ~0.3x the true speed) leaves the
    stance feet sliding at walking speed; the lock must not pin them for the whole walk and drag the body."""
    world, fps = walk
    rel, p2, cam = _noisy_capture(world, fps)
    damped = rel[:, :1] + 0.3 * (rel - rel[:, :1] - (rel - rel[:, :1]).mean(0)) + (rel - rel[:, :1]).mean(0)
    locked = retarget_motion(damped, fps=fps, points2d=p2, image_size=cam.image_size)
    free = retarget_motion(
        damped, fps=fps, points2d=p2, image_size=cam.image_size, options=RetargetOptions(foot_lock=False)
    )
    lean, lean_free = np.median(_lean_deg(locked.joints)), np.median(_lean_deg(free.joints))
    drift = [
        np.linalg.norm(free.joints[s:e, a, :2] - np.median(free.joints[s:e, a, :2], axis=0), axis=-1).max()
        for f, a in enumerate(FEET)
        for s, e in contact._runs(locked.contacts[:, f])
    ]
    print(
        f"damped legs: contact fraction {locked.contacts.mean(0).round(2)}, median lean locked {lean:.1f} deg vs "
        f"unlocked {lean_free:.1f} deg, largest pin drift {max(drift, default=0) * 1e3:.0f} mm"
    )
    assert locked.contacts.mean() < 0.6  # not "planted" for the whole walk
    assert max(drift, default=0.0) < 0.3  # was the whole walk (1.9 m); 2D-still frames may pass MAX_DRIFT
    assert lean < lean_free + 3.0


def test_a_squat_in_place_keeps_its_posture_when_the_feet_are_locked(mocap_dir) -> None:
    """The root's depth comes from how large the body looks, which a squat changes: planted feet drift towards
    and away from the camera. Pinning them where the pelvis was left leaned the body (up to 10 deg on the real
    squat clip); anchor_depth moves the whole body along the viewing ray instead. Up is given (the camera's
    true pitch), so only the feet's handling differs."""
    world, fps = _on_floor(mocap_dir, "hdm05_mm_squat1Reps_038_120")
    ctr = world[:, 0].mean(axis=0)
    cam = Camera(position=ctr + np.array([0.3, -4.0, 1.4 - ctr[2]]), target=ctr * [1, 1, 0] + [0, 0, 0.9])
    rel, p2 = simulate(world, cam, stride=5, noise_px=2.0, seed=0)
    pitch, roll = gravity.pitch_roll(cam.up_cam)
    true_tilt = 90.0 - _lean_deg(world)

    def tilt_error(**kw) -> tuple[float, object]:
        opt = RetargetOptions(camera_pitch=pitch, camera_roll=roll, **kw)
        m = retarget_motion(rel, fps=fps, points2d=p2, image_size=cam.image_size, options=opt)
        return float(np.abs((90.0 - _lean_deg(m.joints)) - true_tilt).mean()), m

    locked, m = tilt_error()
    free, _ = tilt_error(foot_lock=False)
    s = _slide(m.joints, m.contacts)
    print(
        f"squat in place: mean |tilt error| locked {locked:.2f} deg, unlocked {free:.2f} deg; "
        f"contact fraction {m.contacts.mean(0).round(2)}, sliding max {s.max() * 1e3:.2f} mm"
    )
    assert m.contacts.mean() > 0.9
    assert s.max() < 0.01  # still planted
    assert locked < free + 1.0  # 1.05 vs 0.34 deg; pinning alone (before anchor_depth) 2.37, up to 7.3 deg


def test_anchor_depth_takes_out_depth_noise_but_not_travel(walk) -> None:
    """A body standing still whose root depth wobbles +-10 cm (as from its changing 2D size) is put back in
    place; one walking towards the camera with a foot "planted" for 2 s (a still 2D foot) is left alone."""
    world, fps = walk
    pose = world[0] - world[0, 0] + [0.0, 0.0, world[0, 0, 2]]
    T = int(2 * fps)
    camera = np.array([0.0, -5.0, 1.5])
    ray = (pose[0] - camera) / np.linalg.norm(pose[0] - camera)
    wobble = 0.1 * np.sin(np.linspace(0, 4 * np.pi, T))
    still = pose + wobble[:, None, None] * ray
    planted = np.ones((T, 2), bool)
    fixed = contact.anchor_depth(still, planted, fps, camera)
    drift = [np.ptp(fixed[:, a] @ ray) for a in FEET]
    print(f"standing: planted ankle drift along the ray {max(drift) * 1e3:.1f} mm (was {np.ptp(wobble) * 1e3:.0f})")
    assert max(drift) < 0.03  # 23 mm: the 0.12 s easing smooths the correction a little
    walking = pose + (1.3 * np.arange(T) / fps)[:, None, None] * [0.0, 1.0, 0.0]
    np.testing.assert_array_equal(contact.anchor_depth(walking, planted, fps, camera), walking)
