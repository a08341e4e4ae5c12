"""2D pose: MediaPipe PoseLandmarker on key-frames, who is who, and what each landmark means.

detector.py  PoseDetector (one landmarker per capture), Detection, dedupe
tracking.py  PeopleTracker, choose_track: the performer chosen over the whole clip
landmarks.py MediaPipe 33 -> our 17 joints, the canonical torso both training and capture use
bundle.py    finding / downloading the .task bundle (sha256-checked)
hands.py     HandLandmarker on crops around the pose's hands, left / right matched by position
hand_bundle.py  finding / downloading the hand .task bundle (same order as the pose bundle's)
"""

from __future__ import annotations

from .bundle import VARIANTS, default_cache_dir, fetch_pose_model, resolve_pose_model
from .detector import NUM_LANDMARKS, Detection, PoseDetector, dedupe
from .hand_bundle import resolve_hand_model
from .hands import NUM_HAND_LANDMARKS, HandDetector, HandObs, WithHands
from .landmarks import canonical_torso_2d, mediapipe33_to_h36m17
from .tracking import PeopleTracker, Track, choose_track

__all__ = [
    "NUM_HAND_LANDMARKS",
    "NUM_LANDMARKS",
    "HandDetector",
    "HandObs",
    "WithHands",
    "VARIANTS",
    "Detection",
    "PeopleTracker",
    "PoseDetector",
    "Track",
    "canonical_torso_2d",
    "choose_track",
    "dedupe",
    "default_cache_dir",
    "fetch_pose_model",
    "mediapipe33_to_h36m17",
    "resolve_hand_model",
    "resolve_pose_model",
]
