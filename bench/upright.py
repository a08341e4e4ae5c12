"""Upright benchmark: how far from gravity the retargeter's up is, per motion class, before and after.

Mocap clips (bench/upright_scenes.py) are seen by cameras of known pitch (-40..+20 deg), roll (+-15 deg),
height and a field of view (45-75 deg) the code is not told. Two inputs per scene:
  mocap  -- the true joints in camera coordinates (pelvis-relative), 2D with detector-like offsets and
            2 px noise for the root: measures the method itself;
  lifter -- the shipped lifter's output for that 2D on key-frames (stride 10): what a user gets.
"before" is the retarget package as of --before (git revision, default: where this branch left main),
"after" is the working tree. Walk classes also report camera height and distance travelled.

    .venv/bin/python bench/upright.py                 # table, and the section in docs/retarget.md
    .venv/bin/python bench/upright.py --no-write --classes squat,lie
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import upright_scenes as us  # noqa: E402

DOC = REPO / "docs" / "retarget.md"
BEGIN, END = "<!-- upright-bench:begin -->", "<!-- upright-bench:end -->"
CACHE = REPO / "runs" / "upright_lift_cache"
WALKS = ("walk toward", "walk away", "walk across")


def load_before(rev: str) -> object:
    """retarget/ at git revision `rev`, importable as its own package (retarget_before)."""
    tmp = Path(tempfile.mkdtemp(prefix="retarget_before_"))
    tar = subprocess.run(["git", "-C", str(REPO), "archive", rev, "retarget"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=tar.stdout, check=True)
    (tmp / "retarget").rename(tmp / "retarget_before")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("retarget_before.motion")


def default_before() -> str:
    out = subprocess.run(["git", "-C", str(REPO), "merge-base", "HEAD", "main"], capture_output=True, text=True)
    return out.stdout.strip() or "HEAD"


def measure(motion_mod: object, scene: us.Scene, joints: np.ndarray, px: np.ndarray) -> dict[str, float]:
    m = motion_mod.retarget_motion(joints, fps=us.FPS, points2d=px, image_size=scene.image_size)
    row = {"tilt": us.tilt_deg(m.floor.up_cam, scene.up_cam), "method": m.floor.up_method}
    if scene.cls in WALKS:
        true_d = np.linalg.norm(scene.world[-1, 0, :2] - scene.world[0, 0, :2])
        got_d = np.linalg.norm(m.root[-1, :2] - m.root[0, :2])
        row["height"] = 100 * (m.floor.camera_height - scene.position[2]) / scene.position[2]
        row["distance"] = 100 * (got_d - true_d) / true_d
    return row


def run(classes: list[str] | None, before_rev: str, per_clip: int) -> dict:
    import retarget.motion as after

    before = load_before(before_rev)
    rows: dict[tuple[str, str, str], list[dict]] = {}
    for scene in us.scenes(classes, per_clip=per_clip):
        px, cam = us.observe(scene)
        inputs = {"mocap": cam - cam[:, :1], "lifter": us.lifted(scene, px, CACHE)}
        for src, joints in inputs.items():
            for name, mod in (("before", before), ("after", after)):
                r = measure(mod, scene, joints, px)
                rows.setdefault((scene.cls, src, name), []).append(r)
            a, b = rows[(scene.cls, src, "before")][-1], rows[(scene.cls, src, "after")][-1]
            print(
                f"{scene.cls:12s} {scene.name:46s} {src:6s} pitch {scene.pitch_deg:+5.1f} roll {scene.roll_deg:+5.1f}"
                f"  tilt error before {a['tilt']:5.1f}  after {b['tilt']:5.1f} ({b['method']})",
                file=sys.stderr,
                flush=True,
            )
    return rows


def _stats(values: list[float]) -> str:
    v = np.abs(np.asarray(values, dtype=float))
    return f"{np.median(v):.1f} / {np.percentile(v, 90):.1f}"


def tables(rows: dict, classes: list[str]) -> str:
    lines = [
        "Tilt error of up (deg), median / 90th percentile over the scenes of each class:",
        "",
        "| class | scenes | mocap joints: before | after | lifter output: before | after |",
        "|---|---|---|---|---|---|",
    ]
    allr = {k: [] for k in ("mb", "ma", "lb", "la")}
    for c in classes:
        if (c, "mocap", "after") not in rows:
            continue
        cells = []
        for src, tag in (("mocap", "m"), ("lifter", "l")):
            for name in ("before", "after"):
                t = [r["tilt"] for r in rows[(c, src, name)]]
                allr[tag + name[0]] += t
                cells.append(_stats(t))
        lines.append(f"| {c} | {len(rows[(c, 'mocap', 'after')])} | " + " | ".join(cells) + " |")
    lines.append(
        f"| **all** | {len(allr['ma'])} | " + " | ".join(_stats(allr[k]) for k in ("mb", "ma", "lb", "la")) + " |"
    )
    walk = [c for c in WALKS if (c, "mocap", "after") in rows]
    if walk:
        lines += [
            "",
            "Walks: camera height and distance travelled (start to end), |error| in %, median / 90th percentile:",
            "",
            "| class | quantity | mocap joints: before | after | lifter output: before | after |",
            "|---|---|---|---|---|---|",
        ]
        for c in walk:
            for q in ("height", "distance"):
                cells = [
                    _stats([r[q] for r in rows[(c, s, n)]]) for s in ("mocap", "lifter") for n in ("before", "after")
                ]
                lines.append(f"| {c} | {q} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(text: str, header: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the block between `begin` and `end` in docs/retarget.md (appended if absent): one writer for
    every upright bench's table."""
    doc = DOC.read_text()
    block = f"{begin}\n{header}\n\n{text}\n{end}"
    if begin in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", help="comma-separated subset of: " + ", ".join(us.CLASSES))
    ap.add_argument("--before", default=None, help="git revision of the 'before' retarget (default: merge-base main)")
    ap.add_argument("--per-clip", type=int, default=2, help="cameras per clip (default 2)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/retarget.md alone")
    args = ap.parse_args(argv)
    classes = args.classes.split(",") if args.classes else list(us.CLASSES)
    rev = args.before or default_before()
    rows = run(classes, rev, args.per_clip)
    text = tables(rows, classes)
    print(text)
    if not args.no_write:
        short = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", rev], capture_output=True, text=True)
        write_doc(
            text,
            f"*`bench/upright.py`, before = retarget at `{short.stdout.strip()}`, {args.per_clip} cameras per clip.*",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
