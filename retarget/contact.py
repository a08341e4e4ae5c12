"""Foot contact detection, foot locking and grounding (world coordinates, Z up, floor at Z = 0).

The 17 joints end at the ankles, so "foot on the floor" means "ankle at its standing height"
(`ankle_height`, the ankle joint centre above the sole, ~8 cm for an adult). `ANKLE_HEIGHT` is that
default, defined once here: RetargetOptions and the rig writer (bpy_keys) use it, so the floor the motion
is put on and the rest height the rig's root is measured from cannot disagree.
"""

from __future__ import annotations

import numpy as np

from . import quat
from .skeleton import FEET
from .skeleton import INDEX as J

ANKLE_HEIGHT = 0.08  # m, ankle joint centre above the sole when standing
# A planted foot barely moves whatever the lifter's noise: past these the speed thresholds stop adapting,
# and a contact whose foot wanders farther than MAX_DRIFT from where it is pinned is cut back. Without the
# caps a lifter whose stance feet slide (a damped model, a wrong root scale) had both feet "planted" for a
# whole walk, and pinning them leaned the body 25 degrees.
V_ON_MAX, V_OFF_MAX = 0.8, 1.6  # m/s
MAX_DRIFT = 0.15  # m, horizontal

# A planted foot's drift along the viewing ray up to this is the root's depth noise (<= 0.37 m peak to peak on the
# real squat clip and the synthetic squats), beyond it the person travels (anchor_depth).
ANCHOR_MAX_DRIFT_M = 0.6

_LEG = {J["LAnkle"]: (J["LHip"], J["LKnee"]), J["RAnkle"]: (J["RHip"], J["RKnee"])}


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of True runs in a 1-D bool array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(int)))
    return list(zip(d[::2], d[1::2]))


def _clean(mask: np.ndarray, min_len: int, max_gap: int) -> np.ndarray:
    m = np.asarray(mask, bool).copy()
    for s, e in _runs(~m):  # close short gaps (a noisy frame inside a stance)
        if e - s <= max_gap and s > 0 and e < len(m):
            m[s:e] = True
    for s, e in _runs(m):  # drop blips shorter than a real stance
        if e - s < min_len:
            m[s:e] = False
    return m


def foot_speed(ankles: np.ndarray, fps: float) -> np.ndarray:
    """Horizontal speed [T, F] (m/s) of ankle tracks [T, F, 3]."""
    if len(ankles) < 2:
        return np.zeros(ankles.shape[:2])
    return np.linalg.norm(np.gradient(ankles[..., :2], axis=0), axis=-1) * fps


def detect_contacts(
    ankles: np.ndarray,
    fps: float,
    ankle_height: float = ANKLE_HEIGHT,
    h_on: float = 0.05,
    h_off: float = 0.09,
    v_on: float = 0.4,
    v_off: float = 0.8,
    use_speed: bool = True,
    min_s: float = 0.08,
    max_gap_s: float = 0.05,
    floor_band: float = 0.12,
    still2d: np.ndarray | None = None,
) -> np.ndarray:
    """bool [T, F] for ankle tracks [T, F, 3] (world, floor at 0).

    A foot enters contact when it is within h_on of its standing height and (if use_speed) slower than
    v_on; it leaves when it rises above h_off or moves faster than v_off (hysteresis: no flicker at the
    threshold). Contacts shorter than min_s are dropped, gaps up to max_gap_s closed, and frames of a contact
    farther than MAX_DRIFT from its median position dropped, except where `still2d` [T, F] (`still_in_image`)
    says the foot stood still in the video: there the drift is the monocular root's, and pinning fixes it.

    Monocular root height is noisy, so while the lower foot is within floor_band of standing height it
    counts as standing and the other foot's height is measured from it (both feet share the root's
    error). Speed thresholds rise with the clip's noise floor (median speed of the slower foot), up to
    V_ON_MAX / V_OFF_MAX.
    """
    a = np.asarray(ankles, dtype=np.float64)
    h = a[..., 2] - ankle_height
    hmin = h.min(axis=1, keepdims=True)
    h = h - np.where(hmin < floor_band, hmin, 0.0)
    if use_speed:
        v = foot_speed(a, fps)
        noise = float(np.median(v.min(axis=1))) if len(v) else 0.0
        v_on = min(max(v_on, 1.5 * noise + 0.1), max(v_on, V_ON_MAX))
        v_off = min(max(v_off, 3.0 * noise + 0.2), max(v_off, V_OFF_MAX))
    else:
        v = np.zeros(h.shape)
    on = (h < h_on) & (v < v_on)
    off = (h > h_off) | (v > v_off)
    out = np.zeros(h.shape, bool)
    for f in range(h.shape[1]):
        state = False
        for t in range(h.shape[0]):
            state = (not off[t, f]) if state else bool(on[t, f])
            out[t, f] = state
        min_len, max_gap = max(1, round(min_s * fps)), max(0, round(max_gap_s * fps))
        out[:, f] = _clean(out[:, f], min_len, max_gap)
        keep = None if still2d is None else np.asarray(still2d, bool)[:, f]
        out[:, f] = _clean(_without_drift(out[:, f], a[:, f, :2], keep), min_len, 0)
    return out


def still_in_image(points2d: np.ndarray, fps: float, max_speed: float = 0.25) -> np.ndarray:
    """bool [T, F] (F in FEET order) from 2D joints [T, 17, 2] (pixels, NaN off key-frames): between two
    consecutive key-frames the ankle's image moved slower than max_speed body heights per second (a planted
    foot of a static camera's video; the 2D points' own vertical spread is the body height)."""
    p = np.asarray(points2d, dtype=np.float64)
    out = np.zeros((len(p), len(FEET)), bool)
    keys = np.flatnonzero(np.isfinite(p[:, list(FEET)]).all(axis=(1, 2)))
    if len(keys) < 2:
        return out
    body = np.maximum(np.nanmax(p[keys, :, 1], axis=1) - np.nanmin(p[keys, :, 1], axis=1), 1.0)
    for i, (a, b) in enumerate(zip(keys[:-1], keys[1:])):
        moved = np.linalg.norm(p[b, list(FEET)] - p[a, list(FEET)], axis=-1) / (0.5 * (body[i] + body[i + 1]))
        out[a : b + 1] |= (moved * fps / (b - a) < max_speed)[None]
    return out


def _without_drift(
    mask: np.ndarray, xy: np.ndarray, keep: np.ndarray | None = None, max_drift: float = MAX_DRIFT
) -> np.ndarray:
    """Drop the frames of each contact run whose foot is farther than max_drift from the run's median
    position (what the lock would pin it to): a foot that travels is not planted. Frames in `keep` stay."""
    m = mask.copy()
    for _ in range(4):  # dropping frames moves a run's median: repeat until every run holds still
        changed = False
        for s, e in _runs(m):
            near = np.linalg.norm(xy[s:e] - np.median(xy[s:e], axis=0), axis=-1) <= max_drift
            if keep is not None:
                near |= keep[s:e]
            changed |= not near.all()
            m[s:e] = near
        if not changed:
            break
    return m


def floor_level(ankle_z: np.ndarray, fps: float, ankles_xy: np.ndarray | None = None, h_on: float = 0.05) -> float:
    """Height of the ankles when standing [T, F] -> scalar: the median ankle height over frames where the
    foot is near the lowest levels seen (and slow, when horizontal tracks are given)."""
    z = np.asarray(ankle_z, dtype=np.float64)
    low = np.percentile(z.min(axis=1), 20)
    near = z < low + h_on
    if ankles_xy is not None and len(z) > 2:
        v = np.linalg.norm(np.gradient(np.asarray(ankles_xy, float), axis=0), axis=-1) * fps
        slow = near & (v < 0.4)
        near = slow if slow.sum() >= 5 else near
    return float(np.median(z[near]))


def anchor_depth(
    joints: np.ndarray,
    contacts: np.ndarray,
    fps: float,
    camera: np.ndarray,
    blend_s: float = 0.12,
    min_contact_s: float = 1.0,
) -> np.ndarray:
    """Move the whole body [T,17,3] along the camera's viewing ray so that each ankle planted for at least
    min_contact_s keeps the depth of its contact median (contacts [T,F] bool; camera [3], where the camera is
    in the same world).

    Why: the root's depth comes from how large the body looks in the image, and a squat, a bend or an arm
    across the body changes that, so a planted foot drifts towards and away from the camera. Pinning it there
    (lock_feet) keeps the pelvis where the error put it and leaned the body up to 10 degrees towards the
    camera; moving the body along the ray keeps the pose, the image and each contact's median. Between
    contacts the correction is interpolated, then eased over blend_s. A walk's stance (~0.6 s) is left to
    lock_feet: its ankle really rolls forward over the toes, and holding it put gave the pelvis a sawtooth and
    a walking test's shin a 48-degree one-frame turn. Nor is a contact whose foot drifts more than
    ANCHOR_MAX_DRIFT_M along the ray: that is the person travelling (a walk towards the camera kept "planted"
    for 2 s by a still 2D foot drifted 1.7 m, and anchoring it cut the distance walked by a third).
    """
    j = np.array(joints, dtype=np.float64, copy=True)
    T = len(j)
    ray = quat.normalize(j[:, 0] - np.asarray(camera, dtype=np.float64))
    total, count = np.zeros(T), np.zeros(T)
    for f, ank in enumerate(FEET):
        for s, e in _runs(contacts[:, f]):
            if e - s < min_contact_s * fps:
                continue
            drift = np.sum((j[s:e, ank] - np.median(j[s:e, ank], axis=0)) * ray[s:e], axis=-1)
            if np.ptp(drift) > ANCHOR_MAX_DRIFT_M:
                continue
            total[s:e] -= drift
            count[s:e] += 1
    held = count > 0
    if not held.any():
        return j
    t = np.arange(T)
    shift = np.interp(t, t[held], total[held] / count[held])
    n = max(1, int(round(blend_s * fps)))
    k = np.hanning(2 * n + 3)[1:-1]
    shift = np.convolve(np.pad(shift, n, mode="edge"), k / k.sum(), mode="valid")
    j += (shift[:, None] * ray)[:, None]
    return j


def lock_feet(
    joints: np.ndarray,
    contacts: np.ndarray,
    fps: float,
    ankle_height: float = ANKLE_HEIGHT,
    blend_s: float = 0.12,
    reach_frac: float = 0.995,
) -> np.ndarray:
    """Pin each ankle while its foot is in contact (to the median of its contact positions, never below
    standing height) and re-solve the knee by two-bone IK so thigh and shin keep their lengths.

    The pin fades in/out over blend_s around each contact (smoothstep) so there is no pop. A target out of
    the leg's reach (noisy monocular root) moves the pelvis and upper body towards it, eased over blend_s;
    what remains out of reach after that is pulled back along the hip-ankle line (the foot slides).
    """
    j = np.array(joints, dtype=np.float64, copy=True)
    T = j.shape[0]
    nb = max(1, int(round(blend_s * fps)))
    t_idx = np.arange(T)
    side = quat.normalize(j[:, J["LHip"]] - j[:, J["RHip"]])
    up = quat.normalize(j[:, J["Spine"]] - j[:, J["Pelvis"]])
    fwd = quat.normalize(np.cross(side, up))  # body forward (bend direction of a straight knee)
    goals: list[np.ndarray] = []
    locked: list[int] = []
    legs = {
        a: (np.linalg.norm(j[:, k] - j[:, h], axis=-1), np.linalg.norm(j[:, a] - j[:, k], axis=-1))
        for a, (h, k) in _LEG.items()
    }  # thigh and shin lengths per frame
    for f, ank in enumerate(FEET):
        a = j[:, ank].copy()
        weight = np.zeros(T)
        target = a.copy()
        for s, e in _runs(contacts[:, f]):
            goal = np.median(a[s:e], axis=0)
            goal[2] = max(goal[2], ankle_height)
            dist = np.maximum(np.maximum(s - t_idx, t_idx - (e - 1)), 0)  # frames outside the run
            x = np.clip(1 - dist / (nb + 1), 0, 1)
            w = x * x * (3 - 2 * x)
            take = w > weight
            weight[take] = w[take]
            target[take] = goal
        if not weight.any():
            continue
        goals.append(a + weight[:, None] * (target - a))
        locked.append(ank)
    if not locked:
        return j
    # Pinned feet the leg cannot reach move the pelvis (whole upper body) towards them, smoothly.
    for _ in range(3):
        shift = np.zeros((T, 3))
        for ank, goal in zip(locked, goals):
            hip_i, knee_i = _LEG[ank]
            reach = (legs[ank][0] + legs[ank][1]) * reach_frac
            dv = goal - j[:, hip_i]
            d = np.linalg.norm(dv, axis=-1)
            shift += dv / np.maximum(d, 1e-9)[:, None] * np.maximum(d - reach, 0.0)[:, None]
        if not np.abs(shift).max() > 1e-4:
            break
        shift = _spread(shift, nb)
        j += shift[:, None]
    for ank, goal in zip(locked, goals):
        hip_i, knee_i = _LEG[ank]
        j[:, knee_i], j[:, ank] = _two_bone_ik(j[:, hip_i], j[:, knee_i], goal, legs[ank], fwd)
    return j


def _spread(x: np.ndarray, n: int) -> np.ndarray:
    """Per-channel envelope [T, D]: each frame's value spread over +-n frames with a smooth bump, keeping
    the largest magnitude (so a needed correction is never reduced, only eased in and out)."""
    k = np.hanning(2 * n + 3)[1:-1]
    out = x.copy()
    mag = np.linalg.norm(x, axis=-1)
    best = mag.copy()
    for t in np.flatnonzero(mag > 0):
        lo, hi = max(0, t - n), min(len(x), t + n + 1)
        cand = mag[t] * k[lo - (t - n) : hi - (t - n)]
        take = cand > best[lo:hi]
        idx = np.arange(lo, hi)[take]
        out[idx] = x[t] * k[idx - (t - n), None]
        best[idx] = cand[take]
    return out


def _two_bone_ik(
    hip: np.ndarray, knee: np.ndarray, goal: np.ndarray, lengths: tuple[np.ndarray, np.ndarray], fwd: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Knee and ankle [T,3] putting the ankle at goal (pulled back along hip->goal if out of reach) with
    thigh and shin `lengths` [T] each, the knee staying in its bend plane (fwd when the leg is straight)."""
    l1, l2 = lengths
    d_vec = goal - hip
    d = np.linalg.norm(d_vec, axis=-1)
    u = d_vec / np.maximum(d, 1e-9)[:, None]
    d = np.clip(d, np.abs(l1 - l2) + 1e-6, (l1 + l2) * (1 - 1e-6))
    kv = knee - hip
    perp = kv - np.sum(kv * u, axis=-1, keepdims=True) * u
    pf = fwd - np.sum(fwd * u, axis=-1, keepdims=True) * u
    perp = np.where((np.linalg.norm(perp, axis=-1) < 1e-4)[:, None], pf, perp)
    v = quat.normalize(perp)
    along = (l1**2 - l2**2 + d**2) / (2 * d)
    height = np.sqrt(np.maximum(l1**2 - along**2, 0.0))
    return hip + u * along[:, None] + v * height[:, None], hip + u * d[:, None]


def ground(
    joints: np.ndarray, fps: float, ankle_height: float = ANKLE_HEIGHT, margin: float = 0.0, hold_s: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Lift the whole body where any joint would be under the floor (ankles: under standing height).

    Returns (joints, lift [T]). The lift is spread over +-hold_s with a smooth bump so it never snaps.
    """
    j = np.array(joints, dtype=np.float64, copy=True)
    floor = np.full(j.shape[1], margin)
    floor[list(FEET)] = ankle_height
    need = np.maximum(0.0, (floor[None] - j[..., 2]).max(axis=1))
    if not need.any():
        return j, need
    lift = _spread(need[:, None], max(1, int(round(hold_s * fps))))[:, 0]
    j[..., 2] += lift[:, None]
    return j, lift
