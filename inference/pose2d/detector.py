"""MediaPipe PoseLandmarker (Tasks API, VIDEO mode) on key-frames.

`PoseDetector` wraps one landmarker per capture (created and closed by its owner: no global state, safe in a
worker thread); `dedupe` drops the near-copies of one body that multi-pose MediaPipe sometimes returns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PoseModelError

NUM_LANDMARKS = 33
# Torso + limbs landmarks used for position and size (face and hand/foot tips are noisier).
_BODY = np.array([11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])
_TORSO = np.array([11, 12, 23, 24])
# Left/right swap of the 33 BlazePose landmarks (a double detection is sometimes a mirrored copy).
_FLIP33 = np.array(
    [
        0,
        4,
        5,
        6,
        1,
        2,
        3,
        8,
        7,
        10,
        9,
        12,
        11,
        14,
        13,
        16,
        15,
        18,
        17,
        20,
        19,
        22,
        21,
        24,
        23,
        26,
        25,
        28,
        27,
        30,
        29,
        32,
        31,
    ]
)


@dataclass(eq=False)
class Detection:
    """One person on one frame. image: [33, 5] x_px, y_px, z (MediaPipe relative depth, x-scale),
    visibility, presence; world: [33, 3] metres, origin between the hips (MediaPipe's world landmarks);
    hands: the person's hands (pose2d.hands.HandObs) when the capture looks for fingers, else None."""

    image: np.ndarray
    world: np.ndarray
    hands: Any = None

    @property
    def xy(self) -> np.ndarray:
        return self.image[:, :2]

    @property
    def center(self) -> np.ndarray:
        """Torso centre (shoulders and hips): steadier than the mean of all points when limbs swing."""
        return self.xy[_TORSO].mean(axis=0)

    @property
    def size(self) -> float:
        """Body size in pixels: diagonal of the body landmarks' bounding box (what "largest" compares)."""
        pts = self.xy[_BODY]
        return float(np.hypot(*(pts.max(axis=0) - pts.min(axis=0)))) + 1e-6

    @property
    def scale(self) -> float:
        """Roughly the body height, from the torso (unaffected by arms and legs spreading), bounded below by
        the body box for a torso foreshortened when bending towards the camera. Unit of tracking distances."""
        xy = self.xy
        torso = np.linalg.norm(xy[[11, 12]].mean(axis=0) - xy[[23, 24]].mean(axis=0))
        return max(3.3 * float(torso), 0.6 * self.size)

    @property
    def score(self) -> float:
        return float(np.mean(self.image[_BODY, 3]))


class PoseDetector:
    """MediaPipe PoseLandmarker in VIDEO mode. Timestamps are forced strictly increasing integer ms."""

    def __init__(
        self,
        model_path: str | os.PathLike,
        *,
        num_poses: int = 1,
        min_detection: float = 0.5,
        min_presence: float = 0.5,
        min_tracking: float = 0.5,
    ) -> None:
        os.environ.setdefault("GLOG_minloglevel", "2")  # silence MediaPipe's C++ INFO/WARNING chatter
        try:
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:  # pragma: no cover - environment problem
            raise PoseModelError(mediapipe_missing(exc)) from None
        self._mp_image = _mp_image_factory()
        options = vision.PoseLandmarkerOptions(
            # Pass the bytes: MediaPipe cannot open paths with non-ASCII characters on every platform.
            base_options=BaseOptions(model_asset_buffer=Path(model_path).read_bytes()),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection,
            min_pose_presence_confidence=min_presence,
            min_tracking_confidence=min_tracking,
        )
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except Exception as exc:  # noqa: BLE001 - MediaPipe raises RuntimeError/ValueError with C++ status text
            raise PoseModelError(f"MediaPipe could not load the pose model {model_path}: {exc}") from None
        self._last_ms = -1

    def detect(self, image: np.ndarray, timestamp: float) -> list[Detection]:
        """People on one RGB uint8 frame [H, W, 3] at `timestamp` seconds."""
        h, w = image.shape[:2]
        ms = max(int(round(timestamp * 1000.0)), self._last_ms + 1)
        self._last_ms = ms
        result = self._landmarker.detect_for_video(self._mp_image(np.ascontiguousarray(image)), ms)
        people = []
        for lms, world in zip(result.pose_landmarks, result.pose_world_landmarks):
            img = np.array(
                [(p.x * w, p.y * h, p.z * w, _f(p.visibility), _f(p.presence)) for p in lms], dtype=np.float32
            )
            wld = np.array([(p.x, p.y, p.z) for p in world], dtype=np.float32)
            people.append(Detection(img, wld))
        return people

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> PoseDetector:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _f(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def mediapipe_missing(exc: BaseException) -> str:
    """What to do when MediaPipe cannot be imported: the add-on bundles it per platform, a checkout installs it."""
    return (
        f"MediaPipe could not be loaded ({exc}). In Blender: install the Uplift Mocap zip built for this "
        "platform (Windows, Linux, macOS Intel or Apple Silicon each have their own; see README, Install in "
        "Blender). From a source checkout: run ./setup.sh."
    )


def _mp_image_factory():
    import mediapipe as mp

    return lambda rgb: mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)


def dedupe(people: list[Detection], overlap: float = 0.2) -> list[Detection]:
    """Drop near-copies of one person (multi-pose MediaPipe sometimes returns the same body twice, at times
    mirrored left/right): body landmarks within `overlap` x body size of each other on average, either way."""

    def same(a: Detection, b: Detection) -> bool:
        limit = overlap * min(a.size, b.size)
        return any(
            np.linalg.norm(a.xy[_BODY] - b.xy[order][_BODY], axis=1).mean() < limit for order in (slice(None), _FLIP33)
        )

    kept: list[Detection] = []
    for p in sorted(people, key=lambda d: -d.score):
        if not any(same(p, k) for k in kept):
            kept.append(p)
    return kept
