"""MediaPipe HandLandmarker on key-frames, in regions the pose model already found (`hands="fingers"`).

Why crops: in a whole-body shot a hand is a few dozen pixels; the palm detector, which sees the frame at
192 x 192, misses many of them. The pose model's wrist / pinky / index landmarks (15-20) say where each
hand is, so each hand is looked for in a square around them (both hands in one crop when they are close).
Why matching: HandLandmarker's handedness label is a guess from the hand's look (it flips on a fist or a
hand seen from the back), so each hand found is given to the pose's left or right wrist by position (its
wrist and knuckles against the pose's), the label only breaking near-ties.

`HandDetector` is IMAGE mode (crops move every frame, so MediaPipe's own tracking does not apply);
`WithHands` wraps a `PoseDetector` so every pass of a capture gets the hands of everyone it finds, and
the chosen performer's are read off the track afterwards (pipeline.select_person).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PoseModelError
from .detector import Detection, PoseDetector, _mp_image_factory, dedupe, mediapipe_missing

NUM_HAND_LANDMARKS = 21
SIDES = ("L", "R")  # index 0 = the person's left hand, 1 = right (as the pose's 15/16)
_POSE_HAND = {"L": (15, 17, 19), "R": (16, 18, 20)}  # wrist, pinky, index of the pose's 33 landmarks
_KNUCKLES = (5, 9, 13, 17)  # MCP joints of the 21 hand landmarks
_BOX = 4.0  # half-side of the crop, in wrist -> knuckles lengths of the pose
_BOX_MIN = 0.06  # ... and at least this many body heights (a foreshortened hand)
_MERGE = 0.75  # one crop for both hands when their centres are closer than this many half-sides
_GATE = 1.0  # a hand farther than this (half-sides, wrist + knuckles) from the pose's hand is not it
_LABEL_PENALTY = 0.15


@dataclass
class HandObs:
    """Both hands of one person on one frame: image [2, 21, 2] px, world [2, 21, 3] m (MediaPipe's hand
    world landmarks, origin at the hand's centre), score [2] (NaN rows / 0: not found)."""

    image: np.ndarray
    world: np.ndarray
    score: np.ndarray

    @classmethod
    def empty(cls) -> HandObs:
        return cls(
            np.full((2, NUM_HAND_LANDMARKS, 2), np.nan, np.float32),
            np.full((2, NUM_HAND_LANDMARKS, 3), np.nan, np.float32),
            np.zeros(2, np.float32),
        )


def hand_regions(image33: np.ndarray, scale: float) -> list[tuple[np.ndarray, float] | None]:
    """(centre px [2], half-side px) per side from the pose landmarks [33, >=2]; None where not usable."""
    out: list[tuple[np.ndarray, float] | None] = []
    for side in SIDES:
        w, p, i = (image33[k, :2].astype(np.float64) for k in _POSE_HAND[side])
        if not (np.isfinite(w).all() and np.isfinite(p).all() and np.isfinite(i).all()):
            out.append(None)
            continue
        knuckles = 0.5 * (p + i)
        half = max(_BOX * float(np.linalg.norm(knuckles - w)), _BOX_MIN * scale, 8.0)
        out.append((0.5 * (w + knuckles), half))
    return out


class HandDetector:
    """One HandLandmarker (IMAGE mode, up to 2 hands per crop) for a capture; created and closed by its owner."""

    def __init__(self, model_path: str | os.PathLike, *, min_detection: float = 0.5, min_presence: float = 0.5):
        os.environ.setdefault("GLOG_minloglevel", "2")
        try:
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:  # pragma: no cover - environment problem
            raise PoseModelError(mediapipe_missing(exc)) from None
        self._mp_image = _mp_image_factory()
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=Path(model_path).read_bytes()),
            running_mode=vision.RunningMode.IMAGE,
            num_hands=2,
            min_hand_detection_confidence=min_detection,
            min_hand_presence_confidence=min_presence,
        )
        try:
            self._landmarker = vision.HandLandmarker.create_from_options(options)
        except Exception as exc:  # noqa: BLE001 - MediaPipe raises RuntimeError/ValueError with C++ status text
            raise PoseModelError(f"MediaPipe could not load the hand model {model_path}: {exc}") from None
        self.seconds = 0.0

    def _crop(
        self, image: np.ndarray, centre: np.ndarray, half: float
    ) -> list[tuple[np.ndarray, np.ndarray, str, float]]:
        """Hands found in one square crop: (image px [21,2], world [21,3], label, score) each."""
        h, w = image.shape[:2]
        x0, y0 = int(max(centre[0] - half, 0)), int(max(centre[1] - half, 0))
        x1, y1 = int(min(centre[0] + half, w)), int(min(centre[1] + half, h))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        res = self._landmarker.detect(self._mp_image(np.ascontiguousarray(image[y0:y1, x0:x1])))
        out = []
        for lms, world, hand in zip(res.hand_landmarks, res.hand_world_landmarks, res.handedness):
            px = np.array([(p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0) for p in lms], np.float32)
            wl = np.array([(p.x, p.y, p.z) for p in world], np.float32)
            out.append((px, wl, hand[0].category_name[:1].upper(), float(hand[0].score)))
        return out

    def detect(self, image: np.ndarray, person: Detection) -> HandObs:
        """Both hands of `person` on an RGB frame, matched to the pose's left / right hand by position."""
        regions = hand_regions(person.image, person.scale)
        found: list[tuple[np.ndarray, np.ndarray, str, float]] = []
        usable = [r for r in regions if r is not None]
        if len(usable) == 2 and np.linalg.norm(usable[0][0] - usable[1][0]) < _MERGE * max(r[1] for r in usable):
            c = 0.5 * (usable[0][0] + usable[1][0])
            half = max(r[1] + 0.5 * float(np.linalg.norm(r[0] - c)) for r in usable)
            found = self._crop(image, c, half)
        else:
            for r in usable:
                found += self._crop(image, *r)
        return match_hands(found, person.image, regions)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


def match_hands(
    found: list[tuple[np.ndarray, np.ndarray, str, float]],
    image33: np.ndarray,
    regions: list[tuple[np.ndarray, float] | None],
) -> HandObs:
    """Give each found hand to the pose's left or right hand it lies on (wrist and knuckles, in crop
    half-sides); near-copies of one hand (found in both crops) count once; the label only breaks ties."""
    obs = HandObs.empty()
    cost = np.full((2, len(found)), np.inf)
    for s, side in enumerate(SIDES):
        if regions[s] is None:
            continue
        half = regions[s][1]
        w, p, i = (image33[k, :2] for k in _POSE_HAND[side])
        for j, (px, _, label, _score) in enumerate(found):
            d = np.linalg.norm(px[0] - w) + np.linalg.norm(px[list(_KNUCKLES)].mean(axis=0) - 0.5 * (p + i))
            c = d / (2 * half) + (_LABEL_PENALTY if label != side else 0.0)
            if c <= _GATE:
                cost[s, j] = c
    taken: list[np.ndarray] = []
    for flat in np.argsort(cost, axis=None):
        s, j = np.unravel_index(flat, cost.shape)
        if not np.isfinite(cost[s, j]) or obs.score[s] > 0:
            continue
        px = found[j][0]
        if any(np.linalg.norm(px[0] - t[0]) < 0.1 * regions[s][1] for t in taken):
            continue  # the same hand already given to the other side
        obs.image[s], obs.world[s], obs.score[s] = px, found[j][1], max(found[j][3], 1e-3)
        taken.append(px)
    return obs


class WithHands:
    """A `PoseDetector` whose detections carry `hands` (a HandObs): what the passes call when fingers are on.
    It owns both landmarkers (closed together); seconds spent on hands add up in `hands.seconds` so the
    timings can show their cost apart from the pose's."""

    def __init__(self, pose: PoseDetector, hands: HandDetector) -> None:
        self.pose, self.hands = pose, hands

    def detect(self, image: np.ndarray, timestamp: float) -> list[Detection]:
        people = dedupe(self.pose.detect(image, timestamp))
        t0 = time.perf_counter()
        for p in people:
            p.hands = self.hands.detect(image, p)
        self.hands.seconds += time.perf_counter() - t0
        return people

    def close(self) -> None:
        self.pose.close()
        self.hands.close()

    def __enter__(self) -> WithHands:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def hands_on_grid(items: dict[int, Detection], keyframes: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The chosen person's hands laid out on the frame grid: hands2d [T, 2, 21, 2] px and hands3d
    [T, 2, 21, 3] m (left, right), NaN off key-frames and where a hand was not found (or not looked for)."""
    h2 = np.full((n_frames, 2, NUM_HAND_LANDMARKS, 2), np.nan, np.float32)
    h3 = np.full((n_frames, 2, NUM_HAND_LANDMARKS, 3), np.nan, np.float32)
    for slot, det in items.items():
        if slot < len(keyframes) and det.hands is not None:
            row = int(keyframes[slot])
            h2[row], h3[row] = det.hands.image, det.hands.world
    return h2, h3
