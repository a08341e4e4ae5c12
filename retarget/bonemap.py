"""Bone maps (segment -> bone or chain of bones): built-in presets, user presets (JSON), and a guess from names.

Pure Python. A bone map value is one bone name or a list of consecutive bones (a chain that turns as
one, e.g. Rigify's spine.002 + spine.003 for the chest). A preset may also carry ``constants``: F-curve
data paths keyed once in the new action (Rigify's IK/FK switches set to FK), so the rig's own settings
are never edited.

Guessing (for rigs without a matching preset) works in two passes:
1. limbs by name: side tokens (L/R/Left/Right/.l/_R/l-prefix such as ``lfemur``) are split off, known
   prefixes (``mixamorig:``, ``CC_Base_``, ``DEF-``, ``Bip01``) dropped, and the rest matched against
   synonyms (upper arm = upperarm/arm/humerus/..., shin = shin/calf/leg/knee/...); a clavicle named
   "collar"/"clavicle" makes "shoulder" mean the upper arm (CMU's LeftCollar/LeftShoulder/LeftElbow);
2. the trunk by structure: the hips bone (hips/hip/pelvis, an ancestor of both thighs), the head bone,
   and the parent chain between them, split at the bone the arms hang from (chest top): lower half
   -> spine, upper half -> chest, bones between chest and head -> neck.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .fingers import FINGER_SEGMENTS, FINGERS
from .segments import FOOT_SEGMENTS, HAND_SEGMENTS, SEGMENTS, TOE_SEGMENTS

BODY_SEGMENT_NAMES: tuple[str, ...] = tuple(SEGMENTS) + tuple(FOOT_SEGMENTS)
# Toe, hand and finger slots are optional: a rig without them (or a map without them) still matches and
# captures (an armature Uplift built without hands keeps matching its own preset).
OPTIONAL_SEGMENTS: tuple[str, ...] = tuple(TOE_SEGMENTS) + tuple(HAND_SEGMENTS) + FINGER_SEGMENTS
SEGMENT_NAMES: tuple[str, ...] = BODY_SEGMENT_NAMES + OPTIONAL_SEGMENTS
# A preset matches a rig that lacks these (feet too: armatures Uplift built before they had feet).
MATCH_OPTIONAL: frozenset[str] = frozenset(OPTIONAL_SEGMENTS + tuple(FOOT_SEGMENTS))
PRESET_DIR = Path(__file__).resolve().parent / "presets"

BoneMap = dict[str, "str | list[str]"]


@dataclass
class Preset:
    name: str
    bonemap: BoneMap
    description: str = ""
    constants: dict[str, float] = field(default_factory=dict)
    builtin: bool = False

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "bonemap": self.bonemap,
            "constants": self.constants,
        }


def validate(bonemap: Mapping[str, object]) -> BoneMap:
    """Check a bone map's shape; returns a clean copy. Unknown segments are an error (typos lose motion)."""
    out: BoneMap = {}
    for seg, v in bonemap.items():
        if seg not in SEGMENT_NAMES:
            raise ValueError(f"unknown segment {seg!r} in bone map; segments are: {', '.join(SEGMENT_NAMES)}")
        if isinstance(v, str):
            if v:
                out[seg] = v
        elif isinstance(v, (list, tuple)) and v and all(isinstance(b, str) and b for b in v):
            out[seg] = list(v)
        elif v not in (None, "", []):
            raise ValueError(f"bone map entry for {seg!r} must be a bone name or a list of bone names, got {v!r}")
    bones = [b for v in out.values() for b in ([v] if isinstance(v, str) else v)]
    dup = {b for b in bones if bones.count(b) > 1}
    if dup:
        raise ValueError(f"bones mapped to more than one segment: {sorted(dup)}")
    return out


def load_preset(path: str | Path, builtin: bool = False) -> Preset:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"cannot read bone-map preset {path}: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("bonemap"), dict):
        raise ValueError(f"bone-map preset {path} has no 'bonemap' object")
    consts = data.get("constants") or {}
    if not all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in consts.items()):
        raise ValueError(f"bone-map preset {path}: 'constants' must map data paths to numbers")
    return Preset(
        str(data.get("name") or path.stem),
        validate(data["bonemap"]),
        str(data.get("description", "")),
        {k: float(v) for k, v in consts.items()},
        builtin,
    )


def _safe_filename(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    if not s:
        raise ValueError(f"preset name {name!r} has no usable characters")
    return s


def save_preset(
    user_dir: str | Path,
    name: str,
    bonemap: Mapping[str, object],
    description: str = "",
    constants: Mapping[str, float] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a user preset as <user_dir>/<name>.json. Refuses to replace an existing file unless asked."""
    d = Path(user_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{_safe_filename(name)}.json"
    if path.exists() and not overwrite:
        raise FileExistsError(f"a bone-map preset named {name!r} already exists at {path}")
    p = Preset(name, validate(bonemap), description, dict(constants or {}))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(p.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def list_presets(user_dir: str | Path | None = None) -> dict[str, Preset]:
    """Built-in presets, then the user's (a user preset with a built-in's name shadows it)."""
    out = {p.name: p for p in (load_preset(f, builtin=True) for f in sorted(PRESET_DIR.glob("*.json")))}
    if user_dir is not None and Path(user_dir).is_dir():
        for f in sorted(Path(user_dir).glob("*.json")):
            p = load_preset(f)
            out[p.name] = p
    return out


def resolve(bonemap: Mapping[str, object], bone_names: Iterable[str]) -> BoneMap:
    """Adapt a map to a rig's actual names: exact match first, else ignoring any ``namespace:`` prefix
    (Mixamo exports mixamorig:, mixamorig1:, ...). Entries whose bones are missing are dropped."""
    names = list(bone_names)
    exact = set(names)
    by_tail: dict[str, str] = {}
    for n in names:
        by_tail.setdefault(n.rsplit(":", 1)[-1], n)
    out: BoneMap = {}
    for seg, v in validate(bonemap).items():
        chain = [v] if isinstance(v, str) else v
        got = [b if b in exact else by_tail.get(b.rsplit(":", 1)[-1]) for b in chain]
        if all(got):
            out[seg] = got[0] if isinstance(v, str) else got
    return out


def match_preset(
    bone_names: Iterable[str], user_dir: str | Path | None = None, min_coverage: float = 0.999
) -> tuple[Preset, BoneMap] | None:
    """The preset whose body bones the rig has (all of them by default; its hand and finger bones only where
    the rig has them); the most segments wins."""
    names = list(bone_names)
    best = None
    for p in list_presets(user_dir).values():
        r = resolve(p.bonemap, names)
        body = [s for s in p.bonemap if s not in MATCH_OPTIONAL]
        if not body or sum(s in r for s in body) < min_coverage * len(body):
            continue
        if best is None or len(r) > len(best[1]):
            best = (p, r)
    return best


# ---------------------------------------------------------------- guessing from names and structure

_PREFIXES = re.compile(r"^(?:.*:|cc_base_|def[-_]|bip0*1[ _]|armature[|])", re.I)
_SKIP = re.compile(r"^(?:mch|org|vis|tweak|ik|fk)[-_.]|(?:twist|share|roll|ik|pole|target|helper|end)", re.I)
_SIDE_TOKENS = {"l": "L", "left": "L", "r": "R", "right": "R"}

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "hips": ("hips", "hip", "pelvis", "root"),
    "head": ("head", "face"),
    "clavicle": ("clavicle", "collar", "collarbone"),
    "shoulder": ("shoulder",),
    "upper_arm": ("upperarm", "uparm", "arm", "humerus"),
    "forearm": ("forearm", "lowerarm", "lowarm", "elbow", "radius"),
    "thigh": ("thigh", "upleg", "upperleg", "femur", "hip"),
    "shin": ("shin", "calf", "leg", "lowerleg", "lowleg", "knee", "tibia"),
    "foot": ("foot", "ankle"),
    "hand": ("hand", "wrist"),
    "toe": ("toe", "toebase", "toes", "ball"),
}
_ALL_WORDS = {w for ws in _SYNONYMS.values() for w in ws}


def split_name(name: str) -> tuple[str | None, str]:
    """Bone name -> (side 'L'/'R'/None, base word): 'mixamorig:LeftForeArm' -> ('L', 'forearm')."""
    s = _PREFIXES.sub("", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", s)
    tokens = [t for t in re.split(r"[\s._\-:|]+", s.lower()) if t]
    side = None
    rest = []
    for t in tokens:
        if t in _SIDE_TOKENS and side is None:
            side = _SIDE_TOKENS[t]
        else:
            rest.append(t)
    base = "".join(rest)
    base = re.sub(r"(?<=[a-z])0+(?=\d)", "", base)  # spine01 -> spine1
    if side is None and len(base) > 1 and base[0] in "lr" and base[1:] in _ALL_WORDS:  # lfemur, rhumerus
        side, base = base[0].upper(), base[1:]
    return side, base


def _depths(parents: Sequence[int]) -> list[int]:
    out = []
    for i in range(len(parents)):
        d, j = 0, parents[i]
        while j >= 0:
            d, j = d + 1, parents[j]
        out.append(d)
    return out


def _is_ancestor(parents: Sequence[int], a: int, b: int) -> bool:
    j = parents[b]
    while j >= 0:
        if j == a:
            return True
        j = parents[j]
    return False


def guess_bonemap(names: Sequence[str], parents: Sequence[int]) -> BoneMap:
    """Guess segment -> bone(s) from names and hierarchy (see module docstring). May be partial."""
    depth = _depths(parents)
    parsed = [split_name(n) for n in names]
    usable = [not _SKIP.search(_PREFIXES.sub("", n)) for n in names]
    used: set[int] = set()

    def find(kind: str, side: str | None, under: int | None = None) -> int | None:
        for word in _SYNONYMS[kind]:
            cands = [
                i
                for i, (sd, b) in enumerate(parsed)
                if usable[i]
                and i not in used
                and sd == side
                and b == word
                and (under is None or _is_ancestor(parents, under, i))
            ]
            if cands:
                return min(cands, key=lambda i: (depth[i], len(names[i])))
        return None

    out: dict[str, list[int]] = {}
    for side in "LR":
        thigh = find("thigh", side)
        if thigh is not None:
            used.add(thigh)
            out[f"thigh.{side}"] = [thigh]
            shin = find("shin", side, under=thigh)
            if shin is not None:
                used.add(shin)
                out[f"shin.{side}"] = [shin]
                foot = find("foot", side, under=shin)
                if foot is not None:
                    used.add(foot)
                    out[f"foot.{side}"] = [foot]
                    toe = find("toe", side, under=foot)
                    if toe is not None:
                        used.add(toe)
                        out[f"toe.{side}"] = [toe]
        clav = find("clavicle", side)
        if clav is not None:
            used.add(clav)
            upper = find("upper_arm", side, under=clav) or find("shoulder", side, under=clav)
        else:
            clav = find("shoulder", side)
            if clav is not None:
                used.add(clav)
            upper = find("upper_arm", side, under=clav)
        if upper is not None:
            used.add(upper)
            out[f"upper_arm.{side}"] = [upper]
            fore = find("forearm", side, under=upper)
            if fore is not None:
                used.add(fore)
                out[f"forearm.{side}"] = [fore]
                hand = find("hand", side, under=fore)
                if hand is not None:
                    used.add(hand)
                    out[f"hand.{side}"] = [hand]
        if clav is not None and (upper is None or _is_ancestor(parents, clav, upper)):
            out[f"shoulder.{side}"] = [clav]

    # Trunk: hips must hold both legs; head by name; the chain between them split at the arms.
    thighs = [out[k][0] for k in ("thigh.L", "thigh.R") if k in out]
    hips = None
    for word in _SYNONYMS["hips"]:
        cands = [
            i
            for i, (sd, b) in enumerate(parsed)
            if usable[i] and sd is None and b == word and all(_is_ancestor(parents, i, t) for t in thighs)
        ]
        if cands:
            hips = min(cands, key=lambda i: depth[i])
            break
    if hips is None and len(thighs) == 2:  # lowest common ancestor of the thighs
        anc = []
        j = parents[thighs[0]]
        while j >= 0:
            anc.append(j)
            j = parents[j]
        hips = next((a for a in anc if _is_ancestor(parents, a, thighs[1])), None)
    if hips is not None:
        out["hips"] = [hips]
        used.add(hips)
        head = find("head", None, under=hips)
        if head is not None:
            out["head"] = [head]
            chain = []
            j = parents[head]
            while j >= 0 and j != hips:
                chain.append(j)
                j = parents[j]
            chain.reverse()  # hips (excl.) ... head (excl.)
            arms = [out[k][0] for k in ("shoulder.L", "shoulder.R", "upper_arm.L", "upper_arm.R") if k in out]
            top = max((k for k, b in enumerate(chain) if any(_is_ancestor(parents, b, a) for a in arms)), default=None)
            if top is not None:
                torso, neck = chain[: top + 1], chain[top + 1 :]
                if len(torso) >= 2:
                    half = len(torso) // 2
                    out["spine"], out["chest"] = torso[:half], torso[half:]
                elif torso:
                    out["chest"] = torso
                if neck:
                    out["neck"] = neck
    for side in "LR":
        if f"forearm.{side}" in out:
            out.update(_guess_fingers(parsed, usable, parents, depth, out[f"forearm.{side}"][0], side))
    return {
        seg: (names[v[0]] if len(v) == 1 else [names[i] for i in v])
        for seg, v in ((s, out[s]) for s in SEGMENT_NAMES if s in out)
    }


_FINGER_WORDS = {
    "thumb": "thumb",
    "index": "index",
    "middle": "middle|mid",
    "ring": "ring",
    "pinky": "pinky|pinkie|little",
}
_FINGER_RE = {f: re.compile(rf"^(?:hand|f)?(?:{w})(?:finger)?([123])$") for f, w in _FINGER_WORDS.items()}


def _guess_fingers(
    parsed: list[tuple[str | None, str]],
    usable: list[bool],
    parents: Sequence[int],
    depth: list[int],
    fore: int,
    side: str,
) -> dict[str, list[int]]:
    """Finger bones below a forearm by name: thumb/index/middle|mid/ring/pinky|little + 1..3 (Mixamo's
    LeftHandIndex1, CC's L_Mid1, Rigify's f_index.01.L); a 4th (end) bone is not a joint and is skipped."""
    out: dict[str, list[int]] = {}
    for finger in FINGERS:
        for i, (sd, base) in enumerate(parsed):
            m = _FINGER_RE[finger].match(base)
            if m and sd == side and usable[i] and _is_ancestor(parents, fore, i):
                seg = f"{finger}.0{m.group(1)}.{side}"
                if seg not in out or depth[i] < depth[out[seg][0]]:
                    out[seg] = [i]
    return out


def bonemap_for(
    names: Sequence[str], parents: Sequence[int], user_dir: str | Path | None = None
) -> tuple[str, BoneMap, dict[str, float]]:
    """Best map for a rig: a fully matching preset if any, else the guess. Returns (source, map, constants)."""
    hit = match_preset(names, user_dir)
    if hit is not None:
        return hit[0].name, hit[1], dict(hit[0].constants)
    return "guessed from bone names", guess_bonemap(names, parents), {}
