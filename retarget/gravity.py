"""Gravity (world up) in camera coordinates from the motion itself, with a confidence.

People film from tables, balconies and tilted tripods, so up is rarely the image's up. Several cues, each
a direction with an uncertainty (a 3x3 covariance of the unit vector, in radians), are fused on the
sphere by their information, after down-weighting cues that disagree with the rest:

* balance  -- frames with a planted foot (still in the 2D key-frames) and bent legs (squats, one leg,
  picking up, throwing): the centre of mass is over the support on average, and feet planted side by
  side make a level line (posture.support_vectors).
* upright  -- straight-legged frames (standing, walking, running): the thorax is over the ankles.
* sitting  -- the torso of a seated person is roughly vertical.
* lying    -- a lying body is flat on the floor: the normal of its hips-shoulders-head-ankles plane.
* floor    -- with a 2D root: the plane the standing ankle walks on. It fixes only the directions the
  points spread in. A wrong focal length stretches the root's depth and so tilts that plane about the
  camera's x axis; the depth scale (true / assumed focal) is solved together with up (prior around 1,
  FOCAL_SIGMA), so the floor comes out level under the body, and reported for the root.
* path     -- with a 2D root: the pelvis travels level (walks, runs), so up is perpendicular to each
  direction the pelvis track spreads in by more than PATH_MIN_EXTENT_M. It needs no 3D pose (the root
  comes from where the body is in the image and how large it looks), so it holds where the lifter's body
  leans with the camera; unlike the body cues it is not down-weighted for disagreeing with them.
* learned  -- a small network trained on the lifter's own output under virtual cameras of known up
  (retarget/learned_up.py): it reads how the lifted body leans with the camera and undoes that lean.
  Joined with the body cues; only with 2D key-frames (the lifter's output for a video), and left out where
  the body cues find sitting or lying frames (it misreads those).
* level    -- a weak prior: cameras are mostly held near level.

Pitch and roll describe the camera against that up: pitch > 0 looks up, roll > 0 turns the camera
counter-clockwise as seen from behind it (Blender's positive rotation about the view axis), which tilts
the world's verticals towards the image's right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import coords, learned_up, posture, quat
from .fusion import fuse, with_ground
from .skeleton import FEET

CAMERA_UP = coords.CAMERA_UP  # a level camera's up (camera y points down)
LEVEL_SIGMA_DEG = 25.0  # prior: how far from level cameras usually are
FOCAL_SIGMA = 0.2  # prior on log(true / assumed focal length): fov 45-75 deg around 60
MAX_TILT_DEG = 60.0  # a body cue further than this from the image's up is a misreading (e.g. a stander as lying)
LOW_CONFIDENCE_DEG = 5.0  # above this one-sigma tilt uncertainty the user is told up is a guess
# The learned cue reads clips this much of its window long or longer (the window holds a shorter clip's last pose):
# squats of 1.3-1.4 s were left to the body cues, which the lifted body's own tilt pulls 10-14 deg off under
# an upward-looking camera (bench squat median 7.6 -> 5.1 deg with it).
LEARNED_MIN_SPAN = 0.8
# Systematic error of each body cue (deg): what averaging more frames cannot remove (people lean).
BIAS_DEG = {"balance": 6.0, "upright": 3.0, "sitting": 5.0, "lying": 3.0}
DECORRELATION_S = 0.5  # frames closer than this in time are not independent evidence
PATH_MIN_EXTENT_M = 1.0  # the pelvis must travel this far along a direction for it to count as level
PATH_BIAS_DEG = 2.0  # systematic error of the path cue (the root's depth is noisier than its sideways motion)
PATH_MIN_FROM_UP_DEG = 40.0  # a travel direction nearer than this to up is not level travel (lying down)
PATH_BOB_M = 0.03  # how far a walker's pelvis bobs up and down
# Against the ground cues the body's up has a further error: the lifter flattens the camera's pitch (its
# body stays nearer the image's up than the real one: 10-20 deg off under cameras pitched 25-40 deg down,
# docs/retarget.md). Added (in quadrature) to the body's uncertainty where floor or path can take over.
BODY_LEAN_DEG = 5.0
# A floor or path further than this from the body's up is not one level floor or level travel (a person
# jumping down from a box, stairs, a slope): a standing body is never that far from its floor's normal, and
# the lifter's own lean stays well inside it (10-20 deg under cameras pitched 25-40 deg down). Dropped.
GROUND_GATE_DEG = 25.0
DEPTH_NOISE = 0.035  # root depth error / distance, floor_cue (7 % made one-leg and run worse on the synthetic bench)


@dataclass
class Cue:
    name: str
    up: np.ndarray  # [3] unit
    cov: np.ndarray  # [3,3] covariance of `up` (rad^2), in the plane perpendicular to it
    frames: int

    @property
    def sigma_deg(self) -> float:
        return float(np.degrees(np.sqrt(max(np.trace(self.cov) / 2, 0.0))))


@dataclass
class UpEstimate:
    up_cam: np.ndarray  # [3] world up in camera coordinates
    method: str  # "+"-joined cues that carried weight, or "level" / "override" / "assumed level"
    sigma_deg: float  # one-sigma tilt uncertainty
    cues: list[Cue] = field(default_factory=list)
    depth_scale: float = 1.0  # true / assumed focal length, as the floor told it (1: no evidence)
    dropped: tuple[tuple[str, float], ...] = ()  # ground cues left out by GROUND_GATE_DEG: (name, degrees off)

    @property
    def pitch_deg(self) -> float:
        return pitch_roll(self.up_cam)[0]

    @property
    def roll_deg(self) -> float:
        return pitch_roll(self.up_cam)[1]

    @property
    def confidence(self) -> float:
        """0..1: 1 at <= 1 deg of uncertainty, 0.5 at LOW_CONFIDENCE_DEG, falling towards 0 beyond."""
        return float(1.0 / (1.0 + (max(self.sigma_deg - 1.0, 0.0) / (LOW_CONFIDENCE_DEG - 1.0)) ** 2))

    def describe(self) -> str:
        return (
            f"camera pitch {self.pitch_deg:+.1f} deg, roll {self.roll_deg:+.1f} deg "
            f"(up from {self.method}, +-{self.sigma_deg:.1f} deg, confidence {self.confidence:.2f})"
        )


def pitch_roll(up_cam: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) in degrees of a camera that sees world up as `up_cam`."""
    u = quat.normalize(np.asarray(up_cam, dtype=np.float64))
    return float(np.degrees(np.arcsin(np.clip(u[2], -1, 1)))), float(np.degrees(np.arctan2(u[0], -u[1])))


def up_from_pitch_roll(pitch_deg: float, roll_deg: float) -> np.ndarray:
    """Inverse of pitch_roll."""
    p, r = np.radians(pitch_deg), np.radians(roll_deg)
    return np.array([np.sin(r) * np.cos(p), -np.cos(r) * np.cos(p), np.sin(p)])


def _tangent_cov(up: np.ndarray, sigma_rad: float) -> np.ndarray:
    return sigma_rad**2 * (np.eye(3) - np.outer(up, up))


def _n_eff(frames: int, fps: float) -> float:
    return max(1.0, frames / max(fps * DECORRELATION_S, 1.0))


def _direction_cue(name: str, v: np.ndarray, fps: float, up: np.ndarray, max_deg: float = 25.0) -> Cue | None:
    """Robust mean of unit vectors [N,3] (started at their median, vectors further than max_deg dropped),
    its scatter shrunk by the independent frames, plus the cue's bias."""
    if len(v) < 3:
        return None
    est = quat.normalize(np.median(v, axis=0))
    for _ in range(4):
        near = posture.angle_deg(v, est) < max_deg
        if near.sum() < 3:
            return None
        est = quat.normalize(v[near].mean(axis=0))
    if posture.angle_deg(est, CAMERA_UP) > MAX_TILT_DEG:  # no camera is held like that: frames misread
        return None
    spread = np.radians(np.median(posture.angle_deg(v[near], est))) * 1.25
    sigma = np.hypot(np.radians(BIAS_DEG[name]), spread / np.sqrt(_n_eff(int(near.sum()), fps)))
    return Cue(name, est, _tangent_cov(est, sigma), int(near.sum()))


def cue_vectors(
    rel: np.ndarray,
    fps: float,
    up: np.ndarray,
    gate_deg: float = 25.0,
    still: np.ndarray | None = None,
    still_mps: float = 0.35,
    correct: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Per body cue its frames (bool [T]) and unit up vectors [T,3] under the current up, and the level ankle
    lines [M,3] for the balance cue. correct: take out each cue's measured lean (posture.CUE_LEAN_DEG; False
    measures it, bench/cue_bias.py). still [T,2]: feet planted (from 2D); without it a foot that does not
    slide relative to the pelvis counts as planted."""
    pose = posture.postures(rel, up)
    # feet count as side by side within the height the current up can be wrong by (tightening per pass)
    both_m = max(0.05, 0.25 * np.sin(np.radians(gate_deg)))
    vec, together, line = posture.support_vectors(rel, up, fps, both_m=both_m)
    if still is None:
        if len(rel) > 1:  # a planted foot stays under a stander; under a walker it slides back
            vel = np.gradient(rel[:, list(FEET)], axis=0) * fps
            still = np.linalg.norm(vel - (vel @ up)[..., None] * up, axis=-1) < still_mps
        else:
            still = np.ones((len(rel), 2), bool)
    straight = coords.upright_frames(rel)
    planted = pose["on_feet"] & np.asarray(still).any(axis=1)
    bent_legs = planted & ~straight
    level = bent_legs & together & (np.abs(line @ up) < np.sin(np.radians(5.0)))
    upright = pose["on_feet"] & straight
    frames = {"balance": bent_legs, "upright": upright, "sitting": pose["sitting"], "lying": pose["lying"]}
    vecs = {
        "balance": vec,
        "upright": posture.upright_vectors(rel, up, planted),
        "sitting": quat.normalize(rel[:, 8] - rel[:, 0]),
        "lying": posture.body_normals(rel, up),
    }
    if correct:
        vecs = posture.take_out_leans(rel, up, vecs, frames["sitting"])
    return frames, vecs, line[level]


def body_cues(
    rel: np.ndarray,
    fps: float,
    up: np.ndarray,
    gate_deg: float = 25.0,
    still: np.ndarray | None = None,
    still_mps: float = 0.35,
) -> list[Cue]:
    """The cues from pelvis-relative joints [T,17,3] under the current up guess (frames further than gate_deg
    from it are outliers); still as in cue_vectors."""
    frames, vecs, lines = cue_vectors(rel, fps, up, gate_deg, still, still_mps)
    final = gate_deg <= 15.0
    gate = max(gate_deg, 20.0)
    cues = {k: _direction_cue(k, v[frames[k]], fps, up, gate) for k, v in vecs.items()}
    balance = cues["balance"]
    if balance is not None and final and len(lines) >= 3:  # only once up is close: a wrong line misleads
        cues["balance"] = _level_line(balance, lines, fps)
    return [c for c in cues.values() if c is not None]


def _level_line(cue: Cue, lines: np.ndarray, fps: float, sigma_deg: float = 2.0) -> Cue:
    """Add 'planted feet side by side are level' to a balance cue: up is perpendicular to each ankle line."""
    info = np.linalg.pinv(cue.cov, rcond=1e-9)
    n = _n_eff(len(lines), fps)
    scatter = (lines[:, :, None] * lines[:, None, :]).mean(axis=0) * n / np.radians(sigma_deg) ** 2
    p = np.eye(3) - np.outer(cue.up, cue.up)
    info = info + p @ scatter @ p
    # the line constraint moves the estimate: one Gauss-Newton step on the sphere
    grad = p @ (scatter @ cue.up)
    step = -np.linalg.pinv(info, rcond=1e-9) @ grad
    up = quat.normalize(cue.up + p @ step)
    cov = np.linalg.pinv(info, rcond=1e-9)
    return Cue("balance", up, cov, cue.frames)


def floor_cue(
    feet_cam: np.ndarray,
    up: np.ndarray,
    fps: float,
    inlier_m: float = 0.04,
    height_noise_m: float = 0.03,
    prior_weight: float = 0.02,
    iters: int = 4,
) -> Cue | None:
    """Plane through each frame's lowest ankle (root included, camera coords [T,F,3]) near the current up.

    Points well above the plane (flight, a raised foot) are trimmed; directions the points do not spread
    in are held at the current up by prior_weight (m^2). The covariance follows the spread (a straight
    walk fixes only the tilt along its line)."""
    f = np.asarray(feet_cam, dtype=np.float64)
    f = f[np.isfinite(f).all(axis=(1, 2))]
    if len(f) < 10:
        return None
    n = up
    reg = prior_weight * (np.eye(3) - np.outer(up, up))
    q = np.zeros((0, 3))
    for _ in range(iters):
        p = f[np.arange(len(f)), np.argmin(f @ n, axis=1)]
        hp = p @ n
        keep = np.abs(hp - np.percentile(hp, 30)) < inlier_m
        if keep.sum() < 10:
            return None
        q = p[keep] - p[keep].mean(axis=0)
        _, vecs = np.linalg.eigh(q.T @ q / len(q) + reg)
        n = vecs[:, 0] if vecs[:, 0] @ up >= 0 else -vecs[:, 0]
    resid = float(np.sqrt(np.mean((q @ n) ** 2)))
    noise = max(resid, height_noise_m)
    neff = _n_eff(len(q), fps)
    basis = np.linalg.svd(np.eye(3) - np.outer(n, n))[0][:, :2]
    # Depth is the root's least certain axis (solved from the body's 2D size, which a squat changes too): a
    # spread along the viewing ray up to that noise is not floor extent, or a person squatting in place
    # "measures" a floor sloping along the ray. Only the spread beyond it carries tilt information.
    ray = p[keep].mean(axis=0)
    depth_var = (DEPTH_NOISE * np.linalg.norm(ray)) ** 2
    ray = ray / max(np.linalg.norm(ray), 1e-9)
    w, v = np.linalg.eigh(q.T @ q / len(q) - depth_var * np.outer(ray, ray))
    scatter = (v * np.maximum(w, 0.0)) @ v.T
    spread = basis.T @ scatter @ basis  # [2,2] second moment of the points in the floor plane
    tilt_cov = noise**2 / neff * np.linalg.pinv(spread + 1e-6 * np.eye(2))
    tilt_cov = np.minimum(tilt_cov, 1.0) if np.all(np.diag(tilt_cov) > 1.0) else tilt_cov
    cov = basis @ tilt_cov @ basis.T
    return Cue("floor", n, cov, len(q))


def path_cue(path_cam: np.ndarray, up: np.ndarray, fps: float) -> Cue | None:
    """'The pelvis travels level' from its track [T,3] (camera coordinates): up is perpendicular to each
    principal direction the track spans more than PATH_MIN_EXTENT_M along (5-95 % range), provided it is
    not near the current up (a pelvis going down to sit or lie). Other directions are left to the rest
    (a 1 rad prior), like the floor cue; None when the pelvis does not travel."""
    r = np.asarray(path_cam, dtype=np.float64)
    r = r[np.isfinite(r).all(axis=1)]
    if len(r) < 10:
        return None
    x = r - r.mean(axis=0)
    _, vecs = np.linalg.eigh(x.T @ x / len(x))
    dirs, sigmas = [], []
    for d in vecs[:, 1:].T:  # the two widest directions
        proj = x @ d
        extent = float(np.percentile(proj, 95) - np.percentile(proj, 5))
        if extent < PATH_MIN_EXTENT_M or abs(d @ up) > np.cos(np.radians(PATH_MIN_FROM_UP_DEG)):
            continue
        noise = PATH_BOB_M / extent / np.sqrt(_n_eff(len(r), fps))
        dirs.append(d)
        sigmas.append(np.hypot(np.radians(PATH_BIAS_DEG), noise))
    if not dirs:
        return None
    d = np.stack(dirs)  # orthonormal rows
    est = quat.normalize(up - d.T @ (d @ up))  # the nearest up perpendicular to the travel
    p = np.eye(3) - np.outer(est, est)
    info = p + sum(np.outer(p @ v, p @ v) / s**2 for v, s in zip(dirs, sigmas))
    cov = p @ np.linalg.pinv(info, rcond=1e-9) @ p
    return Cue("path", est, cov, len(r))


def learned_cue(rel: np.ndarray, fps: float) -> Cue | None:
    """The learned up (retarget/learned_up.py) as a cue; None without its weights, for a clip much shorter than
    one of its windows (LEARNED_MIN_SPAN), or a misreading."""
    net = learned_up.load()
    if net is None or (len(rel) - 1) / fps < LEARNED_MIN_SPAN * net.span_s:
        return None
    up, sigma, n = learned_up.predict(rel, fps)
    if posture.angle_deg(up, CAMERA_UP) > MAX_TILT_DEG:
        return None
    return Cue("learned", up, _tangent_cov(up, sigma), n)


def level_prior() -> Cue:
    return Cue("level", CAMERA_UP.copy(), _tangent_cov(CAMERA_UP, np.radians(LEVEL_SIGMA_DEG)), 0)


GATES_DEG = (60.0, 40.0, 25.0, 15.0, 10.0, 10.0)  # outlier gate per pass: wide first, so a steep camera is found


def _body_passes(
    j: np.ndarray,
    fps: float,
    start: np.ndarray,
    still: np.ndarray | None,
    path: np.ndarray | None = None,
    learned: Cue | None = None,
) -> tuple[np.ndarray, np.ndarray, list[float], float, list[Cue]]:
    """Body cues under shrinking gates. A path cue (if the pelvis travels) steers the gates, so the body's
    frames are chosen around an up the lifter's lean does not pull, but is left out of the final fuse:
    estimate_up joins it with the depth scale. The learned cue joins the body's."""
    up = quat.normalize(np.asarray(start, dtype=np.float64))
    extra = [learned] if learned is not None else []
    for gate in GATES_DEG:
        pc = path_cue(path, up, fps) if path is not None else None
        cues = body_cues(j, fps, up, gate, still) + extra + [level_prior()]
        up, cov, scale, misfit = fuse(cues + ([pc] if pc is not None else []), up)
    up, cov, scale, misfit = fuse(cues, up)
    return up, cov, scale, misfit, cues


def estimate_up(
    rel: np.ndarray,
    fps: float,
    feet_cam: np.ndarray | None = None,
    points2d: np.ndarray | None = None,
    measure_focal: bool = True,
    path_cam: np.ndarray | None = None,
    learned: bool = True,
) -> UpEstimate:
    """World up in camera coordinates from pelvis-relative joints [T,17,3] (+ ankle tracks with the root
    [T,2,3] in camera coordinates, + the 2D key-frames [T,17,2] that tell planted feet, + the pelvis track
    [T,3] in camera coordinates). measure_focal: let the floor and path correct the depth scale of feet_cam
    and path_cam (False: the focal length they were solved with is known). learned: use the learned cue."""
    j = np.asarray(rel, dtype=np.float64)
    still = posture.feet_still_2d(points2d, fps) if points2d is not None else None
    path = None if path_cam is None else np.asarray(path_cam, dtype=np.float64)
    up, cov, scale, _, cues = _body_passes(j, fps, CAMERA_UP, still)
    # only with 2D key-frames: they mark the joints as the lifter's output for a video, whose lean the learned
    # cue was trained on; 3D from elsewhere (mocap, another lifter) leans otherwise or not at all
    lc = learned_cue(j, fps) if learned and points2d is not None else None
    if any(c.name in ("lying", "sitting") for c in cues):
        path = None  # a pelvis that goes down to the floor or a seat does not travel level
        lc = None  # and the learned cue barely saw sitters or lying bodies in training (it misreads them)
    if path is not None or lc is not None:
        up, cov, scale, _, cues = _body_passes(j, fps, CAMERA_UP, still, path, lc)
    log_k = 0.0
    dropped: list[tuple[str, float]] = []
    if feet_cam is not None or path is not None:
        body_up = up
        body_cov = cov + _tangent_cov(up, np.radians(BODY_LEAN_DEG))
        feet = None if feet_cam is None else np.asarray(feet_cam, dtype=np.float64)
        ground: list[Cue] = []
        gs: list[float] = []
        for _ in range(3):
            k = [1.0, 1.0, np.exp(log_k)]
            ground = [
                c
                for c in (
                    floor_cue(feet * k, up, fps) if feet is not None else None,
                    path_cue(path * k, up, fps) if path is not None else None,
                )
                if c is not None
            ]
            dropped = [(g.name, _angle_deg(g.up, body_up)) for g in ground]
            dropped = [(name, deg) for name, deg in dropped if deg > GROUND_GATE_DEG]
            ground = [g for g in ground if _angle_deg(g.up, body_up) <= GROUND_GATE_DEG]
            if not ground:
                break
            up, cov, log_k, gs = with_ground(body_up, body_cov, ground, log_k, FOCAL_SIGMA if measure_focal else 1e-6)
            log_k = float(np.clip(log_k, -3 * FOCAL_SIGMA, 3 * FOCAL_SIGMA))
        cues, scale = cues + ground, scale + gs
    sigma = float(np.degrees(np.sqrt(max(np.trace(cov) / 2, 0.0))))
    used = [c.name for c, s in zip(cues, scale) if c.name != "level" and s > 0.5 and _share(c, cov) > 0.1]
    return UpEstimate(up, "+".join(used) if used else "level", sigma, cues, float(np.exp(log_k)), tuple(dropped))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def _share(cue: Cue, fused_cov: np.ndarray) -> float:
    """Rough fraction of the fused information that came from this cue."""
    return float(min(1.0, np.trace(fused_cov) / max(np.trace(cue.cov), 1e-12)))
