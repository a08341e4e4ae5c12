"""rigmap keeps a rig's feet above its floor when the scaled pelvis path would sink them (a rig whose leg
proportions differ from the capture's; no bpy): a two-leg rig, straight legs, the pelvis sinking."""

from __future__ import annotations

import numpy as np
import pytest

from retarget.rigmap import RigRest, pose_rotations
from retarget.segments import rest_directions

THIGH, SHIN, ANKLE, SOLE = 0.45, 0.40, 0.10, 0.02  # m; the bone tails of foot and toe rest 2 cm up


def _bone(head, tail) -> np.ndarray:
    y = np.subtract(tail, head) / np.linalg.norm(np.subtract(tail, head))
    x = np.cross(y, [0.3, 0.5, 0.8])
    x /= np.linalg.norm(x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, np.cross(x, y), head
    return m


def _legs() -> tuple[RigRest, dict[str, str]]:
    pelvis = np.array([0.0, 0.0, ANKLE + SHIN + THIGH])
    names, parents, mats, lengths = ["hips"], [-1], [_bone(pelvis, pelvis + [0, 0, 0.2])], [0.2]
    for side, x in (("L", 0.1), ("R", -0.1)):
        hip, knee, ankle = pelvis + [x, 0, 0], pelvis + [x, 0, -THIGH], pelvis + [x, 0, -THIGH - SHIN]
        ball, tip = [x, -0.12, SOLE], [x, -0.18, SOLE]
        for name, head, tail, parent in (
            (f"thigh.{side}", hip, knee, "hips"),
            (f"shin.{side}", knee, ankle, f"thigh.{side}"),
            (f"foot.{side}", ankle, ball, f"shin.{side}"),
            (f"toe.{side}", ball, tip, f"foot.{side}"),
        ):
            names.append(name)
            parents.append(names.index(parent))
            mats.append(_bone(head, tail))
            lengths.append(float(np.linalg.norm(np.subtract(tail, head))))
    rig = RigRest(names, parents, np.array(mats), np.array(lengths))
    return rig, {n: n for n in names}


def _lowest_end(rig: RigRest, pose) -> np.ndarray:
    """Lowest foot/toe tail [T] by hand: straight legs and level feet under the hips, moved by their keyed
    shift."""
    shift = pose.root_location @ rig.matrices[0][:3, :3].T
    return shift[:, 2] + SOLE


@pytest.mark.parametrize("sink", [0.0, 0.015, 0.05])
def test_the_rigs_feet_never_go_under_the_floor(sink: float) -> None:
    """The capture's pelvis `sink` m under the rig's standing height (legs straight): the tails (2 cm up at
    rest) may sink to Z = 0, the rig's floor; deeper, the hips rise exactly onto it, on every frame."""
    rig, bmap = _legs()
    T = 4
    ident = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))
    rots = {k: ident for k in ("hips", "thigh.L", "thigh.R", "shin.L", "shin.R")}
    rest = np.array([0.0, 0.0, ANKLE + SHIN + THIGH])
    pelvis = rest + np.outer(np.linspace(0.0, 1.0, T), [0.3, 0.2, -sink])  # moving, sinking to `sink`
    pose = pose_rotations(rig, bmap, rots, rest_directions(), pelvis, root_rest=rest, scale=1.0)
    low = _lowest_end(rig, pose)
    want = np.maximum(SOLE - np.linspace(0.0, sink, T), 0.0)  # where the tails stand: never under Z = 0
    assert np.allclose(low, want, atol=1e-9)
    shift = pose.root_location @ rig.matrices[0][:3, :3].T
    assert np.allclose(shift[:, :2], pelvis[:, :2] - rest[:2], atol=1e-9)  # only raised, not moved
