"""One-key-frame detector glitches: a pose whose torso leaps away from where both neighbouring key-frames put
the person, and back.

Why: MediaPipe now and then returns a collapsed pose for a single frame (the crossing test clip: the pelvis
109 px, a quarter of a body height, off a dancer whom the key-frames 2 frames before and after place exactly).
The lifter would read it as motion and the rig would be keyed with a jolt; dropped, the key-frame is filled
from its neighbours like a miss and the quality report flags it as lost.

Only close neighbours judge (MAX_GAP_S): between them no real torso strays from the straight line by
GLITCH_BODY. A free fall bows it by g (gap/2)^2 / 2 = 0.05 m at 0.2 s, about 0.03 body heights.
"""

from __future__ import annotations

import numpy as np

TORSO = (11, 12, 23, 24)  # shoulders and hips: the most stable BlazePose landmarks
BODY = (0, 11, 12, 23, 24, 25, 26, 27, 28)  # nose, torso, knees, ankles: the body's height in the image
GLITCH_BODY = 0.15  # torso centre this far (body heights) from its neighbours' straight line: a glitch
MAX_GAP_S = 0.2  # neighbours further apart than this in time say nothing


def glitches(times: np.ndarray, landmarks33: np.ndarray, detected: np.ndarray) -> np.ndarray:
    """bool [K]: key-frames (times [K] s, landmarks [K,33,>=2] px, detected [K]) whose detection is a glitch.

    The neighbours are the nearest detected key-frames before and after; the body height is the median over
    the detected key-frames (a glitch's own pose is not trusted for its size). The worst key-frame goes first
    and is left out when its neighbours are judged, so a glitch does not make them look like glitches too."""
    t = np.asarray(times, dtype=np.float64)
    lm = np.asarray(landmarks33, dtype=np.float64)[..., :2]
    keep = np.flatnonzero(np.asarray(detected, bool))
    out = np.zeros(len(t), bool)
    if len(keep) < 3:
        return out
    centre = lm[:, list(TORSO)].mean(axis=1)
    height = float(np.median(np.ptp(lm[keep][:, list(BODY), 1], axis=1)))
    if not height > 0:
        return out
    while len(keep) >= 3:
        a, k, b = keep[:-2], keep[1:-1], keep[2:]
        w = (t[k] - t[a]) / np.maximum(t[b] - t[a], 1e-9)
        expected = (1 - w)[:, None] * centre[a] + w[:, None] * centre[b]
        dev = np.linalg.norm(centre[k] - expected, axis=-1) / height
        dev[t[b] - t[a] > MAX_GAP_S] = 0.0
        worst = int(np.argmax(dev))
        if not dev[worst] > GLITCH_BODY:
            break
        out[k[worst]] = True
        keep = np.delete(keep, worst + 1)
    return out
