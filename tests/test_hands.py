"""Hand landmarks on key-frames (real MediaPipe HandLandmarker on 01_squats), the hand bundle's resolution
and download checks, the left/right matching, and the finger slots of the bone map."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import inference
from inference.pose2d import hand_bundle
from inference.pose2d.hands import HandObs, match_hands
from retarget import bonemap, fingers

CLIP = "01_squats_tfjs_720x1280.mp4"


@pytest.fixture(scope="module")
def hand_model(shared_dir: Path) -> Path:
    return shared_dir / "models" / "hand_landmarker_full.task"


def test_fingers_capture_finds_both_hands_on_key_frames(videos_dir: Path, hand_model: Path, tmp_path: Path) -> None:
    res = inference.capture(videos_dir / CLIP, 10, hands="fingers", hand_model=hand_model, frame_range=(0, 41))
    T, keys = len(res.timestamps), res.keyframes
    assert res.hands2d.shape == (T, 2, 21, 2) and res.hands3d.shape == (T, 2, 21, 3)
    off = np.setdiff1d(np.arange(T), keys)
    assert np.isnan(res.hands2d[off]).all() and np.isnan(res.hands3d[off]).all()  # only key-frames are looked at
    found = np.isfinite(res.hands2d[keys][:, :, :, 0]).all(axis=2)  # [K, 2]
    assert found[:, 0].sum() >= 3 and found[:, 1].sum() >= 4, found
    # Left / right as the pose sees them: each hand's wrist lies on the pose's wrist (15 left, 16 right).
    for s, lm in ((0, 15), (1, 16)):
        rows = found[:, s]
        d = np.linalg.norm(res.hands2d[keys[rows], s, 0] - res.landmarks33[rows, lm, :2], axis=1)
        assert np.median(d) < 40.0, (s, d)
    # World landmarks are a hand in metres: wrist to middle knuckle 6-12 cm.
    palm = np.linalg.norm(res.hands3d[keys[found[:, 1]], 1, 9] - res.hands3d[keys[found[:, 1]], 1, 0], axis=1)
    assert (0.05 < palm).all() and (palm < 0.13).all(), palm
    assert res.timings.hands > 0 and res.hands == "fingers"
    out = res.save_npz(tmp_path / "take.npz")
    with np.load(out, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["hands2d"], res.hands2d)
        assert json.loads(str(z["meta"]))["hands"] == "fingers"


def test_wrists_capture_runs_no_hand_model(videos_dir: Path) -> None:
    res = inference.capture(videos_dir / CLIP, 20, hands="wrists", frame_range=(0, 21))
    assert res.timings.hands == 0.0 and np.isnan(res.hands2d).all() and res.hands2d.shape[1:] == (2, 21, 2)
    with pytest.raises(inference.UpliftError, match="hands must be one of"):
        inference.capture(videos_dir / CLIP, 20, hands="toes")


def test_left_right_by_position_not_by_label() -> None:
    img33 = np.zeros((33, 5), np.float32)
    img33[[15, 17, 19], :2] = [[100, 100], [90, 120], [110, 120]]  # left hand at x ~ 100
    img33[[16, 18, 20], :2] = [[300, 100], [290, 120], [310, 120]]  # right hand at x ~ 300
    regions = [(np.array([100.0, 110.0]), 60.0), (np.array([300.0, 110.0]), 60.0)]

    def hand(x: float, label: str):
        px = np.zeros((21, 2), np.float32)
        px[:, 0], px[:, 1] = x, 100.0
        px[[5, 9, 13, 17], 1] = 120.0
        return px, np.full((21, 3), x, np.float32), label, 0.9

    # Labels swapped (MediaPipe's guess is wrong) and the same left hand found twice: positions decide.
    obs = match_hands([hand(300, "L"), hand(100, "R"), hand(101, "R")], img33, regions)
    assert obs.image[0, 0, 0] == 100 and obs.image[1, 0, 0] == 300
    # A hand far from both pose hands is nobody's.
    obs = match_hands([hand(700, "L")], img33, regions)
    assert np.isnan(obs.image).all() and (obs.score == 0).all()
    assert isinstance(HandObs.empty(), HandObs)


def test_hand_bundle_resolution(monkeypatch: pytest.MonkeyPatch, hand_model: Path, tmp_path: Path) -> None:
    monkeypatch.setenv(hand_bundle.ENV_VAR, str(hand_model))
    assert hand_bundle.resolve_hand_model() == hand_model
    monkeypatch.setenv(hand_bundle.ENV_VAR, str(hand_model.parent))  # a folder with the local bundle's name
    assert hand_bundle.resolve_hand_model() == hand_model
    monkeypatch.setenv(hand_bundle.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(inference.PoseModelError, match="hand model not found") as err:
        hand_bundle.resolve_hand_model(cache_dir=tmp_path / "cache")
    assert hand_bundle.ENV_VAR in str(err.value)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "hand_landmarker.task").write_bytes(b"<html>not a model</html>")
    with pytest.raises(inference.PoseModelError, match="not a MediaPipe HandLandmarker"):
        hand_bundle.resolve_hand_model(cache_dir=tmp_path / "cache")
    with pytest.raises(inference.PoseModelError, match="lacks"):
        hand_bundle.resolve_hand_model(Path(hand_model.parent / "pose_landmarker_full.task"))


def test_hand_download_is_sha256_checked(hand_model: Path, tmp_path: Path) -> None:
    url = hand_model.as_uri()  # a local "mirror": the same code path as the official download
    good = hashlib.sha256(hand_model.read_bytes()).hexdigest()
    with pytest.raises(inference.PoseModelError, match="no sha256 is pinned"):
        if hand_bundle.OFFICIAL_SHA256:
            pytest.skip("the official hash is pinned")
        hand_bundle.fetch_hand_model(tmp_path, url=url)
    with pytest.raises(inference.PoseModelError, match="sha256"):
        hand_bundle.fetch_hand_model(tmp_path, url=url, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []  # nothing left behind
    got = hand_bundle.fetch_hand_model(tmp_path, url=url, sha256=good)
    assert got == tmp_path / "hand_landmarker.task" and got.read_bytes() == hand_model.read_bytes()


def test_finger_slots_in_presets_and_guess() -> None:
    presets = bonemap.list_presets()
    for name in ("Rigify metarig", "Rigify generated rig", "Mixamo", "Character Creator / iClone", "Uplift default"):
        assert set(fingers.FINGER_SEGMENTS) <= set(presets[name].bonemap), name
    mixamo = presets["Mixamo"].bonemap
    body = [mixamo[s] for s in bonemap.BODY_SEGMENT_NAMES if s in mixamo]
    names = [b for v in body for b in ([v] if isinstance(v, str) else v)]
    hit = bonemap.match_preset(names)  # a Mixamo rig without fingers still matches its preset
    assert hit is not None and hit[0].name == "Mixamo" and not set(fingers.FINGER_SEGMENTS) & set(hit[1])
    # Guess from names on a made-up hierarchy: CC-style and Mixamo-style finger names under the forearms.
    bones = [("Hips", None), ("LeftUpLeg", "Hips"), ("RightUpLeg", "Hips"), ("LeftArm", "Hips")]
    bones += [("LeftForeArm", "LeftArm"), ("LeftHand", "LeftForeArm")]
    for f in ("Thumb", "Index", "Mid", "Ring", "Pinky"):
        parent = "LeftHand"
        for k in (1, 2, 3, 4):
            bones.append((f"L_{f}{k}", parent))
            parent = f"L_{f}{k}"
    names = [b for b, _ in bones]
    parents = [names.index(p) if p else -1 for _, p in bones]
    guess = bonemap.guess_bonemap(names, parents)
    assert guess["middle.02.L"] == "L_Mid2" and guess["thumb.01.L"] == "L_Thumb1" and guess["pinky.03.L"] == "L_Pinky3"
    assert not any(s.endswith(".R") and s in fingers.FINGER_SEGMENTS for s in guess)


def test_cli_and_batch_take_hands(videos_dir: Path, hand_model: Path, tmp_path: Path, monkeypatch) -> None:
    from addon import batch
    from inference import cli

    monkeypatch.setenv(hand_bundle.ENV_VAR, str(hand_model))
    out = tmp_path / "sq.npz"
    argv = [str(videos_dir / CLIP), "--stride", "20", "--frames", "0:21", "--hands", "fingers", "-q", "-o", str(out)]
    assert cli.main(argv) == 0
    with np.load(out, allow_pickle=False) as z:
        assert z["hands2d"].shape == (21, 2, 21, 2) and np.isfinite(z["hands2d"][[0, 20]]).any()
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([str(videos_dir / CLIP), "--hands", "toes"])
    assert batch.parse_args(["x.mp4", "-o", str(tmp_path), "--hands", "fingers"]).hands == "fingers"
    assert batch.parse_args(["x.mp4", "-o", str(tmp_path)]).hands == "wrists"
    from addon import job  # the add-on's time estimate counts the hand model only when it runs

    fingers_s, wrists_s = (job.estimate_seconds(300, 10, "full", 1280, 720, h) for h in ("FINGERS", "WRISTS"))
    assert fingers_s > wrists_s == job.estimate_seconds(300, 10, "full", 1280, 720, "OFF")


def test_auto_stride_refining_passes_look_for_hands_too(videos_dir: Path, hand_model: Path) -> None:
    res = inference.capture(videos_dir / CLIP, "auto", hands="fingers", hand_model=hand_model, frame_range=(0, 41))
    keys = res.keyframes
    refined = np.isin(keys, np.arange(0, 41, res.stride), invert=True)  # added by the refining passes
    found = np.isfinite(res.hands2d[keys][:, :, 0, 0]).any(axis=1)
    assert res.stride_mode == "auto" and refined.sum() >= 3 and found.mean() > 0.7, (keys, found)
    assert found[refined].mean() > 0.7  # the refining passes look for hands like the first one
