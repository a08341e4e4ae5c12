"""Real-bpy tests of rig mapping and key writing (run under bpy 5.0 here, and 4.5 / 4.2 via test_blender45.py).

Ground-truth mocap (CMU, from ../shared) -> segment rotations -> keys on real rigs: the default armature,
BVH rigs imported from ../shared/data/mocap/originals (CMU 31-joint, Character Creator CC_Base_*,
ReActIdle/FreeMoCap names), Rigify's metarig (an A-pose), a steeper-A-pose rolled and turned copy, and a
Rigify-generated rig (generated once per session: conftest.rigify_blend). Everything is read back from
Blender's evaluated pose after frame_set.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")
import addon_utils  # noqa: E402  (ships with bpy)

from retarget import bonemap as bm  # noqa: E402
from retarget import bpy_keys, rigmap, segments  # noqa: E402
from retarget.fk import normalize_bone_lengths  # noqa: E402

CLIP, N_FRAMES, STEP = "cmu_05_06", 150, 4  # modern dance: arms and legs everywhere; 120 fps -> 30 fps
CHECK_EVERY = 5
REPORT: list[str] = []

# (archive, member, global_scale, expected preset or None for "guessed")
BVH_RIGS = {
    "cmu31": ("cmu_cgspeed_misc_bvh", "cmu_cgspeed_misc/bvh11/resources/131_01.bvh", 0.056444, None),
    "cmu_tmoco": ("cmu_cgspeed_misc_bvh", "cmu_cgspeed_misc/TMoCo/bvh/02_01.bvh", 0.056444, None),
    "cc_base": ("cmu_iclone_bvh", "cmu_iclone/All_BVH/subjects/007/007_01.bvh", 0.01, "Character Creator / iClone"),
    "reactidle": ("reactidle_bvh", "reactidle/genuine/003_genuine.bvh", 1.0, None),
}
# Rigify's generated rig is keyed on FK controls; we measure where the ORG (deform-driving) bones end up.
RIGIFY_ORG = {
    k: ([f"ORG-{b}" for b in v] if isinstance(v, list) else f"ORG-{v}")
    for k, v in bm.list_presets()["Rigify metarig"].bonemap.items()
}


@pytest.fixture(scope="module")
def motion(mocap_dir: Path) -> dict:
    d = np.load(mocap_dir / "h36m17" / "cmu_cgspeed_misc_h36m17.npz")
    j = d[CLIP][: N_FRAMES * STEP : STEP].astype(np.float64)
    j = j[..., [0, 2, 1]] * [1.0, -1.0, 1.0]  # mocap +Y up -> Blender Z up
    j[..., 2] -= j[..., 2].min() - 0.08
    lengths = segments.bone_lengths(j)
    jn = normalize_bone_lengths(j, lengths)
    return {"raw": j, "joints": jn, "lengths": lengths, "rots": segments.world_rotations(jn), "fps": 30.0}


@pytest.fixture(scope="module")
def bvh_dir(mocap_dir: Path, tmp_path_factory) -> Path:
    """The BVH files we need, cut to one frame (we need the rigs, not their motion)."""
    out = tmp_path_factory.mktemp("bvh")
    for key, (arch, member, _, _) in BVH_RIGS.items():
        text = subprocess.run(
            f"zstd -dc '{mocap_dir / 'originals' / (arch + '.tar.zst')}' | tar -xO '{member}'",
            shell=True,
            check=True,
            capture_output=True,
        ).stdout.decode()
        head, motion_part = text.split("MOTION", 1)
        lines = [ln for ln in motion_part.strip().splitlines() if ln.strip()]
        (out / f"{key}.bvh").write_text(head + "MOTION\nFrames: 1\n" + lines[1] + "\n" + lines[2] + "\n")
    return out


@pytest.fixture(scope="module", autouse=True)
def blender():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    for mod in ("io_anim_bvh", "rigify"):
        addon_utils.enable(mod, default_set=True)
    yield
    print("\n" + "\n".join(REPORT))


def _import_bvh(path: Path, scale: float, first_frame_as_rest: bool = False) -> bpy.types.Object:
    before = set(bpy.data.objects)
    bpy.ops.import_anim.bvh(filepath=str(path), global_scale=scale, rotate_mode="NATIVE")
    (obj,) = [o for o in bpy.data.objects if o not in before]
    if first_frame_as_rest:
        # iClone writes BVH offsets in each parent's local frame: its "rest" is not a body pose. Its first
        # frame is the T-pose (what a CC character exported as FBX has as rest): make that the rest.
        bpy.context.scene.frame_set(1)
        bpy.context.view_layer.objects.active = obj
        bpy.ops.object.mode_set(mode="POSE")
        bpy.ops.pose.armature_apply(selected=False)
        bpy.ops.object.mode_set(mode="OBJECT")
    return obj


def _metarig() -> bpy.types.Object:
    bpy.ops.object.select_all(action="DESELECT")
    bpy.ops.object.armature_human_metarig_add()
    return bpy.context.view_layer.objects.active


def _steep_a_pose_rolled_turned(obj: bpy.types.Object) -> None:
    """Arms down 25 deg more than the metarig's own A-pose, odd bone rolls, object turned 90 deg and scaled."""
    from mathutils import Matrix

    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    eb = obj.data.edit_bones
    for side, sgn in (("L", 1), ("R", -1)):
        root = eb[f"upper_arm.{side}"]
        pivot = root.head.copy()
        m = Matrix.Translation(pivot) @ Matrix.Rotation(np.radians(25) * sgn, 4, "Y") @ Matrix.Translation(-pivot)
        for b in [root] + list(root.children_recursive):
            b.transform(m)
    for name, roll in (("upper_arm.L", 1.3), ("forearm.R", -2.0), ("thigh.L", 0.9), ("spine.003", 2.5)):
        eb[name].roll += roll
    bpy.ops.object.mode_set(mode="OBJECT")
    obj.rotation_euler = (0.0, 0.0, np.radians(90))
    obj.scale = (2.0, 2.0, 2.0)
    bpy.context.view_layer.update()


def _posed_rest(obj: bpy.types.Object) -> rigmap.RigRest:
    """The evaluated pose as a RigRest (posed matrices), so rigmap's chain geometry applies to it."""
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    r = bpy_keys.rig_rest(obj)
    r.matrices = np.array([np.array(ev.pose.bones[n].matrix) for n in r.names]).reshape(-1, 4, 4)
    return r


def _mid_hips(rig: rigmap.RigRest, measure_map) -> np.ndarray:
    h = rig.heads_world()
    return 0.5 * (
        h[rigmap._chain_of(rig, measure_map, "thigh.L")[0]] + h[rigmap._chain_of(rig, measure_map, "thigh.R")[0]]
    )


def _angular_errors(obj, measure_map, pose: rigmap.PoseResult, motion, frames) -> dict[str, np.ndarray]:
    """Angle (deg) between each measured chain's posed world direction and the segment's direction;
    "root_mm": distance of the rig's mid-hips from the capture's scaled pelvis path (mm, rig units), not
    counting a lift ("lift_mm", world Z) that keeps the feet on the rig's floor; "sole_mm": the lowest foot or
    toe tail above that floor (its rest soles' height, or Z = 0 where they stand above it)."""
    errs: dict[str, list[float]] = {}
    rots = motion["rots"]
    rest = bpy_keys.rig_rest(obj)
    g_rest = rest.rest_world_rotations()
    pelvis_rest = _mid_hips(rest, measure_map)
    root_rest = bpy_keys.default_joints(motion["lengths"])[0]
    ends = [
        rigmap._chain_of(rest, measure_map, s)[-1] for s in ("foot.L", "foot.R", "toe.L", "toe.R") if s in measure_map
    ]
    floor = min(0.0, float(rest.tails_world()[ends, 2].min()))
    for t in frames:
        bpy.context.scene.frame_set(int(round(1 + t)))
        posed = _posed_rest(obj)
        g_pose = posed.rest_world_rotations()
        heads, tails = posed.heads_world(), posed.tails_world()
        want_root = pelvis_rest + pose.scale * pose.facing @ (motion["joints"][t, 0] - root_rest)
        off = _mid_hips(posed, measure_map) - want_root
        errs.setdefault("root_mm", []).append(1000 * float(np.linalg.norm([off[0], off[1], min(off[2], 0.0)])))
        errs.setdefault("lift_mm", []).append(1000 * float(off[2]))
        errs.setdefault("sole_mm", []).append(1000 * (float(tails[ends, 2].min()) - floor))
        for seg in measure_map:
            if seg in segments.FOOT_SEGMENTS:  # feet keep their rest pitch: compare elevations
                chain = rigmap._chain_of(posed, measure_map, seg)
                d_rest = rest.tails_world()[chain[-1]] - rest.heads_world()[chain[0]]
                d_pose = tails[chain[-1]] - heads[chain[0]]
                elev = [np.degrees(np.arcsin(d[2] / np.linalg.norm(d))) for d in (d_rest, d_pose)]
                errs.setdefault(seg, []).append(abs(elev[1] - elev[0]))
                continue
            if seg not in segments.SEGMENTS:  # finger slots: not keyed from the 17 joints (test_fingers.py)
                continue
            r = segments.SEGMENTS[seg]
            m = rigmap.Q.to_matrix(rots[seg][t])
            chain = rigmap._chain_of(posed, measure_map, seg)
            if seg == "hips":
                want = pose.facing @ m @ pose.facing.T @ g_rest[chain[0]]
                got = g_pose[chain[0]]
                cosang = (np.trace(want.T @ got) - 1) / 2
            else:
                got = rigmap._chain_end(posed, measure_map, seg, tails[chain[-1]]) - heads[chain[0]]
                want = pose.facing @ m @ np.asarray(r.rest_dir)
                cosang = np.dot(got, want) / np.linalg.norm(got) / np.linalg.norm(want)
            errs.setdefault(seg, []).append(float(np.degrees(np.arccos(np.clip(cosang, -1, 1)))))
    return {k: np.array(v) for k, v in errs.items()}


def _check_quats(pose: rigmap.PoseResult, rots) -> None:
    """Finite, unit, sign-continuous; no step larger than the captured motion's own largest step + 1 deg."""
    seg_step = max(np.degrees(np.max(rigmap.Q.angle_between(q[1:], q[:-1]))) for q in rots.values())
    for bone, q in pose.rotations.items():
        assert np.all(np.isfinite(q)), bone
        assert np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-6), bone
        assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0), f"{bone}: sign flip between keys"
        step = np.degrees(np.max(rigmap.Q.angle_between(q[1:], q[:-1])))
        assert step < 2 * seg_step + 1, f"{bone}: jump of {step:.1f} deg between keys"


def test_default_armature_fk_matches_input(motion):
    lengths, jn = motion["lengths"], motion["joints"]
    obj = bpy_keys.build_default_armature("Capture", lengths)
    preset = bm.list_presets()["Uplift default"]
    assert bm.match_preset([b.name for b in obj.data.bones])[0].name == preset.name
    rep, pose = bpy_keys.retarget_onto(obj, motion["rots"], jn[:, 0], lengths, CLIP, bonemap=preset.bonemap)
    assert pose.scale == pytest.approx(1.0, abs=1e-6)
    T = len(jn)
    at_rest = {f'pose.bones["{b}"]' for b in pose.rest_bones}  # toes without a rotation: one key at rest
    assert {'pose.bones["toe.L"]', 'pose.bones["toe.R"]'} <= at_rest
    for fc in bpy_keys.action_fcurves(rep.action):
        owner = fc.data_path.rsplit(".", 1)[0]
        assert len(fc.keyframe_points) == (1 if owner in at_rest else T)  # else a key on every frame
    errs = []
    for t in range(0, T, 3):
        bpy.context.scene.frame_set(1 + t)
        ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
        mw, pb = np.array(ev.matrix_world), ev.pose.bones
        got = np.zeros((17, 3))
        got[0] = pb["hips"].head
        for name, seg in segments.SEGMENTS.items():
            if name == "hips":
                got[seg.head], got[seg.tail] = pb["thigh.R"].head, pb["thigh.L"].head
            else:
                got[seg.tail] = pb[name].tail
        got = got @ mw[:3, :3].T + mw[:3, 3]
        errs.append(np.linalg.norm(got - jn[t], axis=1))
    errs = np.array(errs) * 1000
    moved = np.linalg.norm(jn[-1] - jn[0], axis=1).max()
    REPORT.append(
        f"[bpy {bpy.app.version_string}] default armature FK error vs bone-length-normalised input: "
        f"mean {errs.mean():.3f} mm, max {errs.max():.3f} mm over {len(errs)} frames x 17 joints"
    )
    assert moved > 0.2  # the clip really moves, so agreement is not trivial
    assert errs.max() <= 15.0


RIGS = ["cmu31", "cmu_tmoco", "cc_base", "reactidle", "rigify_metarig", "a_pose_rolled_turned", "rigify_generated"]


@pytest.mark.parametrize("rig_name", RIGS)
def test_rig_directions(rig_name, motion, bvh_dir, new_rigify_rig):
    if rig_name in BVH_RIGS:
        obj = _import_bvh(bvh_dir / f"{rig_name}.bvh", BVH_RIGS[rig_name][2], rig_name == "cc_base")
        user_action = obj.animation_data.action if obj.animation_data else None
    elif rig_name == "rigify_generated":
        obj, user_action = new_rigify_rig(), None
    else:
        obj, user_action = _metarig(), None
        if rig_name == "a_pose_rolled_turned":
            _steep_a_pose_rolled_turned(obj)
    names = [b.name for b in obj.data.bones]
    parents = [names.index(b.parent.name) if b.parent else -1 for b in obj.data.bones]
    source, keymap, consts = bm.bonemap_for(names, parents)
    expected = (
        BVH_RIGS[rig_name][3]
        if rig_name in BVH_RIGS
        else {
            "rigify_metarig": "Rigify metarig",
            "a_pose_rolled_turned": "Rigify metarig",
            "rigify_generated": "Rigify generated rig",
        }[rig_name]
    )
    if expected:
        assert source == expected
    body = set(bm.BODY_SEGMENT_NAMES)  # finger slots are optional (the BVH rigs have no fingers)
    assert body <= set(keymap), f"{rig_name}: unmapped {body - set(keymap)}"
    rep, pose = bpy_keys.retarget_onto(
        obj, motion["rots"], motion["joints"][:, 0], motion["lengths"], CLIP, bonemap=keymap, constants=consts
    )
    _check_quats(pose, motion["rots"])
    if user_action is not None:  # the BVH import's own action is kept, muted, in the NLA
        assert user_action.name in bpy.data.actions and user_action.use_fake_user
        assert any(s.action == user_action for tr in obj.animation_data.nla_tracks for s in tr.strips)
        assert rep.kept_action == user_action
    measure = RIGIFY_ORG if rig_name == "rigify_generated" else keymap
    errs = _angular_errors(obj, measure, pose, motion, range(0, len(motion["joints"]), CHECK_EVERY))
    root_mm, lift_mm, sole_mm = errs.pop("root_mm"), errs.pop("lift_mm"), errs.pop("sole_mm")
    allv = np.concatenate(list(errs.values()))
    worst = max(errs, key=lambda k: errs[k].max())
    REPORT.append(
        f"[bpy {bpy.app.version_string}] {rig_name:20s} map: {source:26s} angular error mean "
        f"{allv.mean():.3f} deg, max {allv.max():.3f} deg (worst {worst}); root scale {pose.scale:.3f}, "
        f"mid-hips path error max {root_mm.max():.2f} mm, raised onto the floor on {np.mean(lift_mm > 2):.0%} of "
        f"frames (up to {lift_mm.max():.1f} mm)"
    )
    assert allv.max() < 0.5, {k: round(float(v.max()), 2) for k, v in errs.items()}
    assert root_mm.max() < 15.0
    assert sole_mm.min() > -2.0, "a foot went under the rig's floor"
    raised = lift_mm > 2.0  # only ever raised, and then exactly onto the floor
    assert np.all(np.abs(sole_mm[raised]) < 2.0), (lift_mm[raised], sole_mm[raised])


def test_user_action_kept_and_names_unique(motion):
    obj = bpy_keys.build_default_armature("Keep", motion["lengths"])
    rots = {b: q[:10] for b, q in motion["rots"].items()}
    root = motion["joints"][:10, 0]
    # A user's own hand-keyed action.
    obj.animation_data_create()
    mine = bpy.data.actions.new("my walk")
    obj.animation_data.action = mine
    obj.pose.bones["head"].rotation_quaternion = (0.9, 0.1, 0.0, 0.0)
    obj.keyframe_insert('pose.bones["head"].rotation_quaternion', frame=5)
    n_mine = len(bpy_keys.action_fcurves(mine))
    keymap = bm.list_presets()["Uplift default"].bonemap
    r1, _ = bpy_keys.retarget_onto(obj, rots, root, motion["lengths"], "clip", bonemap=keymap)
    r2, _ = bpy_keys.retarget_onto(obj, rots, root, motion["lengths"], "clip", bonemap=keymap)
    assert r1.kept_action == mine and r2.kept_action == r1.action
    assert r1.action.name == "clip" or r1.action.name.startswith("clip.")
    assert r2.action.name != r1.action.name and r2.action.name.startswith("clip")
    assert obj.animation_data.action == r2.action
    assert len(bpy_keys.action_fcurves(mine)) == n_mine  # untouched
    kept = [s.action for tr in obj.animation_data.nla_tracks for s in tr.strips]
    assert mine in kept and r1.action in kept
    assert all(tr.mute for tr in obj.animation_data.nla_tracks)


def test_keys_written_in_bulk_and_exact(motion):
    """20k+ keys through foreach_set; values read back equal the computed quaternions."""
    obj = bpy_keys.build_default_armature("Bulk", motion["lengths"])
    reps = max(1, -(-20000 // (63 * len(motion["joints"]))))
    rots = {b: np.tile(q, (reps, 1)) for b, q in motion["rots"].items()}
    root = np.tile(motion["joints"][:, 0], (reps, 1))
    keymap = bm.list_presets()["Uplift default"].bonemap
    pose = rigmap.pose_rotations(
        bpy_keys.rig_rest(obj), keymap, rots, {n: s.rest_dir for n, s in segments.SEGMENTS.items()}, root
    )
    t0 = time.perf_counter()
    rep = bpy_keys.write_action(obj, "bulk", pose.rotations, root_bone=pose.root_bone, root_location=pose.root_location)
    dt = time.perf_counter() - t0
    REPORT.append(
        f"[bpy {bpy.app.version_string}] wrote {rep.keys} keys on {rep.fcurves} F-curves in {dt * 1000:.0f} ms"
    )
    assert rep.keys >= 20000
    fcs = {(fc.data_path, fc.array_index): fc for fc in bpy_keys.action_fcurves(rep.action)}
    fc = fcs[('pose.bones["forearm.L"].rotation_quaternion', 2)]
    co = np.empty(2 * len(fc.keyframe_points), dtype=np.float32)
    fc.keyframe_points.foreach_get("co", co)
    np.testing.assert_allclose(co[1::2], pose.rotations["forearm.L"][:, 2], atol=1e-6)
    np.testing.assert_allclose(co[0::2], 1 + np.arange(len(root)))
    assert {kp.interpolation for kp in fc.keyframe_points} == {"LINEAR"}
    assert fc.group is not None and fc.group.name == "forearm.L"


def test_euler_mode_bones_get_euler_keys(motion, bvh_dir):
    """BVH rigs use Euler rotation modes: keys go to rotation_euler in each bone's own order."""
    obj = _import_bvh(bvh_dir / "cmu31.bvh", 0.056444)
    names = [b.name for b in obj.data.bones]
    parents = [names.index(b.parent.name) if b.parent else -1 for b in obj.data.bones]
    _, keymap, _ = bm.bonemap_for(names, parents)
    rep, pose = bpy_keys.retarget_onto(
        obj, motion["rots"], motion["joints"][:, 0], motion["lengths"], "e", bonemap=keymap
    )
    from mathutils import Euler

    bone = keymap["forearm.L"]
    mode = obj.pose.bones[bone].rotation_mode
    assert mode != "QUATERNION"
    bpy.context.scene.frame_set(40)
    got = np.array(Euler(obj.pose.bones[bone].rotation_euler, mode).to_quaternion())
    want = pose.rotations[bone][39]
    assert abs(abs(np.dot(got, want)) - 1) < 1e-5


def test_bpy_version_as_expected():
    want = os.environ.get("UPLIFT_EXPECT_BPY")
    if want:
        assert bpy.app.version_string.startswith(want)
