"""The network's configuration and presets, without torch (why: the ONNX path reads the config too)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

WORLD_FEATURES = 4  # per joint: MediaPipe world x, y, z (metres, pelvis-relative), 1 where present


@dataclass
class UpliftConfig:
    """Everything that defines the network; stored as JSON in the weights' metadata."""

    n_joints: int = 17
    window: int = 81  # N: frames spanned by one window (odd)
    s_out: int = 1  # output stride: one token every s_out frames
    d_joint: int = 32
    joint_depth: int = 4
    joint_heads: int = 8
    joint_mlp: int = 64
    d_temp: int = 384
    temp_depth: int = 4
    temp_heads: int = 8
    temp_mlp: int = 768
    strides: tuple[int, ...] = (4, 4, 3)
    paddings: tuple[int, ...] = (1, 0, 0)
    strided_mlp: int = 768
    drop_path: float = 0.1
    fps: float = 50.0  # the frame rate the model was trained at
    train_strides: tuple[int, ...] = (4, 10, 20)
    # Also see MediaPipe's world landmarks on key-frames (WORLD_FEATURES per joint, model.py); off = 2D only.
    world_input: bool = False

    @property
    def n_tok(self) -> int:
        return (self.window - 1) // self.s_out + 1

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> UpliftConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown config keys {sorted(unknown)}")
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)


PRESETS: dict[str, UpliftConfig] = {
    # The paper's configurations (≈10.4 M parameters), 50 Hz.
    "paper-81": UpliftConfig(
        window=81, s_out=2, strides=(4, 4, 3), paddings=(1, 0, 0), fps=50.0, train_strides=(4, 10, 20)
    ),
    "paper-351": UpliftConfig(
        window=351, s_out=5, strides=(3, 10, 3), paddings=(0, 0, 0), fps=50.0, train_strides=(5, 10, 20)
    ),
    # Shipped model: trains on 2 CPU cores in about an hour; s_out=1 so one model serves every stride.
    "compact": UpliftConfig(
        window=81,
        s_out=1,
        d_joint=32,
        joint_depth=2,
        joint_heads=4,
        joint_mlp=64,
        d_temp=128,
        temp_depth=4,
        temp_heads=4,
        temp_mlp=256,
        strides=(4, 4, 3),
        paddings=(1, 0, 0),
        strided_mlp=256,
        drop_path=0.05,
        fps=30.0,
        train_strides=(1, 2, 4, 5, 10, 20),
    ),
}


def get_config(name: str) -> UpliftConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return dataclasses.replace(PRESETS[name])
