"""What each of the 17 joints means in 2D, the same for MediaPipe detections and for projected mocap.

The model is trained on mocap projected to 2D and run on MediaPipe landmarks, so both sides must pass
through `canonical_torso_2d`: torso joints whose definition differs between mocap sources and MediaPipe
(Pelvis, Spine, Thorax) are rebuilt from the limb joints that mean the same thing everywhere.

MediaPipe 33 -> 17 (BlazePose GHUM landmark indices):
    Pelvis    = midpoint of hips 23, 24 (mocap Pelvis is the hip midpoint in every source)
    R/LHip    = 24 / 23   (BlazePose hips sit a little above/outside the joint centre: left to noise model)
    R/LKnee   = 26 / 25,  R/LAnkle = 28 / 27
    Spine     = midpoint of Pelvis and Thorax (carries no extra information; keeps the input layout)
    Thorax    = midpoint of shoulders 11, 12
    Neck/Nose = nose 0
    Head      = midpoint of the ears 7, 8 (a head-centre point; mocap Head is nearer the crown, the
                model learns the offset from the randomised head offsets of the noise model)
    L/RShoulder = 11 / 12, L/RElbow = 13 / 14, L/RWrist = 15 / 16
MediaPipe's "left" is the performer's left, as in the mocap data.
"""

from __future__ import annotations

import numpy as np

from ..skeleton import INDEX

# 17-joint index -> tuple of BlazePose landmark indices averaged to make it (None: derived afterwards).
MP33_SOURCES: tuple[tuple[int, ...] | None, ...] = (
    (23, 24),  # Pelvis
    (24,),
    (26,),
    (28,),  # RHip RKnee RAnkle
    (23,),
    (25,),
    (27,),  # LHip LKnee LAnkle
    None,  # Spine (derived)
    (11, 12),  # Thorax
    (0,),  # Neck/Nose
    (7, 8),  # Head
    (11,),
    (13,),
    (15,),  # LShoulder LElbow LWrist
    (12,),
    (14,),
    (16,),  # RShoulder RElbow RWrist
)


# The joints `canonical_torso_2d` rebuilds from hips and shoulders (MediaPipe has no point of its own for them).
REBUILT: tuple[str, ...] = ("Pelvis", "Spine", "Thorax")


def canonical_torso_2d(points: np.ndarray) -> np.ndarray:
    """Rebuild Pelvis, Thorax and Spine from hips and shoulders. points: [..., 17, D] -> same shape (copy)."""
    p = np.array(points, dtype=np.float32, copy=True)
    p[..., INDEX["Pelvis"], :] = 0.5 * (p[..., INDEX["LHip"], :] + p[..., INDEX["RHip"], :])
    p[..., INDEX["Thorax"], :] = 0.5 * (p[..., INDEX["LShoulder"], :] + p[..., INDEX["RShoulder"], :])
    p[..., INDEX["Spine"], :] = 0.5 * (p[..., INDEX["Pelvis"], :] + p[..., INDEX["Thorax"], :])
    return p


def mediapipe33_to_h36m17(landmarks: np.ndarray) -> np.ndarray:
    """BlazePose landmarks [..., 33, D] -> the 17 joints [..., 17, D]; NaN in gives NaN out."""
    lm = np.asarray(landmarks, dtype=np.float32)
    out = np.full(lm.shape[:-2] + (17, lm.shape[-1]), np.nan, dtype=np.float32)
    for j, src in enumerate(MP33_SOURCES):
        if src is not None:
            out[..., j, :] = lm[..., list(src), :].mean(axis=-2)
    return canonical_torso_2d(out)
