"""Real-detector pairs: MediaPipe on rendered key-frames beside the body's exact joints, one npz per clip.

Why: the lifter is trained on projected mocap plus a hand-made noise model; these pairs show what the real
detector (full and lite) does on bodies whose joints are known exactly, to measure a landmark model, to
fine-tune on, and to evaluate. Written atomically (temp file + os.replace), so a killed run never leaves
a half file and a resumed run skips every clip whose npz exists.

World: metres, +Y up (the mocap's convention). Camera: OpenCV (x right, y down, z forward), pixels with
(0, 0) the top-left corner of the top-left pixel. K key-frames, N dense frames (every model-rate frame from
the first to the last key-frame). MediaPipe arrays are NaN where it found no body.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..pose2d.landmarks import canonical_torso_2d, mediapipe33_to_h36m17

FORMAT_VERSION = 1
MODELS = ("full", "lite")
# name -> meaning; the npz holds exactly these (test_render_humans checks it)
ARRAYS: dict[str, str] = {
    "version": "int, FORMAT_VERSION",
    "clip": "str, clip name as in training.data.load_clips (pieces cut at glitches end in #k)",
    "source": "str, mocap source (cmu_iclone, hdm05, ...)",
    "split": "str, 'train' or 'val' (training.data.is_val of the clip name)",
    "fps": "float, the video rate the frame indices refer to (30; 60 for the val_60fps evaluation clips)",
    "key_frames": "[K] int, frame index of each rendered key-frame in the clip",
    "dense_frames": "[N] int, every frame index from the first to the last key-frame",
    "image_size": "[2] int, (width, height) in pixels",
    "K": "[3, 3] camera intrinsics (fx = fy, principal point at the image centre)",
    "cam_R": "[3, 3] world -> camera rotation (static camera per clip)",
    "cam_C": "[3] camera centre in world (metres)",
    "joints_world": "[K, 17, 3] exact Anny joints (Human3.6M-17 order, see humans.py), world",
    "joints_cam": "[K, 17, 3] the same in camera coordinates (metres)",
    "joints_2d": "[K, 17, 2] their projection (pixels)",
    "head_top_cam": "[K, 3] crown vertex, camera coordinates",
    "dense_joints_cam": "[N, 17, 3] exact joints at every dense frame, camera coordinates (lifter targets)",
    "mocap_world": "[K, 17, 3] the driving mocap joints (canonical targets, source scale, world)",
    "phenotype": "[6] Anny phenotype values in [0, 1], order of phenotype_names",
    "phenotype_names": "[6] str",
    "plan_json": "str, the ClipPlan (seed, stride, look, size) as JSON",
    "render_json": "str, renderer settings and timings as JSON",
    **{f"mp_{m}_image": f"[K, 33, 5] MediaPipe {m}: x_px, y_px, z (x-scaled), visibility, presence" for m in MODELS},
    **{f"mp_{m}_world": f"[K, 33, 3] MediaPipe {m} world landmarks (metres, hip-centred)" for m in MODELS},
    **{f"mp_{m}_found": f"[K] bool, MediaPipe {m} returned a body" for m in MODELS},
}


def detect_frames(images: list[np.ndarray], times: np.ndarray, model_path: str | os.PathLike) -> dict[str, np.ndarray]:
    """MediaPipe PoseLandmarker (VIDEO mode, as the capture runs it on key-frames) over one clip's frames:
    image [K, 33, 5], world [K, 33, 3], found [K] (one body; NaN where none)."""
    from ..pose2d.detector import PoseDetector  # noqa: PLC0415 - mediapipe loads only when detecting

    k = len(images)
    image = np.full((k, 33, 5), np.nan, dtype=np.float32)
    world = np.full((k, 33, 3), np.nan, dtype=np.float32)
    found = np.zeros(k, dtype=bool)
    with PoseDetector(model_path, num_poses=1) as det:
        for i, (img, t) in enumerate(zip(images, times)):
            people = det.detect(img, float(t))
            if people:
                image[i], world[i], found[i] = people[0].image, people[0].world, True
    return {"image": image, "world": world, "found": found}


def project(K: np.ndarray, xc: np.ndarray) -> np.ndarray:
    """Camera points [..., 3] -> pixels [..., 2]."""
    z = np.maximum(xc[..., 2:3], 1e-6)
    return xc[..., :2] / z * np.array([K[0, 0], K[1, 1]]) + np.array([K[0, 2], K[1, 2]])


def intrinsics(f_px: float, size: tuple[int, int]) -> np.ndarray:
    return np.array([[f_px, 0.0, size[0] / 2.0], [0.0, f_px, size[1] / 2.0], [0.0, 0.0, 1.0]])


def write_npz_atomic(path: Path, arrays: dict[str, object]) -> None:
    """np.savez_compressed to a temp file in the same folder, then os.replace: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_pairs(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """One clip's pairs (no pickles); JSON fields stay strings (json.loads(z['plan_json']))."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def clip_filename(clip: str) -> str:
    """File-system-safe name of a clip's npz ('#' of glitch pieces -> '~')."""
    return clip.replace("#", "~").replace("/", "_") + ".npz"


def summary(pairs: dict[str, np.ndarray]) -> dict[str, float]:
    """Detection rate and hip error (px) per model: the numbers a progress line shows."""
    out: dict[str, float] = {"keys": float(len(pairs["key_frames"]))}
    for m in MODELS:
        found = pairs[f"mp_{m}_found"]
        out[f"{m}_found"] = float(found.mean())
        if found.any():
            mp_hips = pairs[f"mp_{m}_image"][found][:, [24, 23], :2]  # R, L hips
            exact = pairs["joints_2d"][found][:, [1, 4]]
            out[f"{m}_hip_px"] = float(np.median(np.linalg.norm(mp_hips - exact, axis=-1)))
    return out


def dumps(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, default=float)


def split_folder(split: str, fps: float = 30.0) -> str:
    """Where a split's pairs live under the rendered folder: `val`, or `val_60fps` for clips at another rate
    (evaluation only: training reads 30 fps folders)."""
    return split if abs(fps - 30.0) < 1e-6 else f"{split}_{fps:g}fps"


def rendered_sequences(folder: Path, detector: str = "full") -> list[dict]:
    """A folder of pairs as the lifter sees them (evaluation, fine-tuning) -> dicts: px [T,17,2] (NaN off
    key-frames or where MediaPipe missed), gt [T,17,3] pelvis-relative camera, mp_world [T,17,3] (NaN off
    key-frames), keys [K] rows, stride, size, split."""
    out = []
    for path in sorted(Path(folder).glob("*.npz")):
        if path.name.startswith("."):
            continue
        with np.load(path, allow_pickle=False) as z:
            dense = z["dense_frames"]
            keys = z["key_frames"] - dense[0]
            gt = z["dense_joints_cam"].astype(np.float32)
            img, world = z[f"mp_{detector}_image"], z[f"mp_{detector}_world"]
            found = z[f"mp_{detector}_found"]
            size = tuple(int(v) for v in z["image_size"])
            split = str(z["split"]) if "split" in z.files else ""
            fps = float(z["fps"]) if "fps" in z.files else 30.0
        T = len(dense)
        px = np.full((T, 17, 2), np.nan, np.float32)
        mpw = np.full((T, 17, 3), np.nan, np.float32)
        px[keys[found]] = canonical_torso_2d(mediapipe33_to_h36m17(img[found, :, :2]))
        mpw[keys[found]] = mediapipe33_to_h36m17(world[found])
        stride = int(np.median(np.diff(keys))) if len(keys) > 1 else 1
        out.append(
            {
                "name": path.stem,
                "px": px,
                "gt": gt - gt[:, :1],
                "mp_world": mpw,
                "keys": keys,
                "stride": stride,
                "size": size,
                "split": split,
                "fps": fps,
            }
        )
    return out
