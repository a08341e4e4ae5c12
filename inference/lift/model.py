"""The Uplift and Upsample transformer (Einfalt et al., WACV 2023) in one module with one config dataclass.

Sparse key-frame 2D poses in a window of `n_tok` output-rate tokens -> 3D poses for every token (sequence
head) and a refined pose for the centre token (centre head). Shapes:
    x2d  [B, n_tok, 17, 2]  normalised pixels (x/w*2-1, y with the same scale); values off key-frames ignored
    key  [B, n_tok] bool    True where a 2D pose exists
    world [B, n_tok, 17, 4] optional, only with cfg.world_input: MediaPipe's world landmarks on key-frames
            (pelvis-relative metres in its own axes, and a 1 where present; all zeros = not given)
    -> seq [B, n_tok, 17, 3], centre [B, 17, 3]  (metres, camera coordinates, pelvis-relative)

The spatial transformer runs only on key-frame poses (`embed_poses`), so inference can embed each key-frame
once and re-use the embedding in every window that contains it (`forward_tokens`); `forward_windows` is that
step for one batch of windows, the form exported to ONNX. The config (`UpliftConfig`, presets) lives in
config.py and the numpy pose helpers in poses.py, without torch; both are re-exported here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..skeleton import FLIP_PERM
from .config import PRESETS, WORLD_FEATURES, UpliftConfig, get_config
from .poses import normalize_2d

__all__ = [
    "PRESETS",
    "UpliftConfig",
    "UpliftUpsample",
    "count_parameters",
    "flip_2d",
    "flip_3d",
    "get_config",
    "normalize_2d",
]


class DropPath(nn.Module):
    """Stochastic depth: drop a residual branch per sample during training."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p
        return x * keep.to(x.dtype) / (1.0 - self.p)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.proj(y.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """Pre-LN transformer block (ViT style)."""

    def __init__(self, dim: int, heads: int, mlp: int, act: type[nn.Module], drop_path: float) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), act(), nn.Linear(mlp, dim))
        self.drop = DropPath(drop_path)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), bias))
        return x + self.drop(self.mlp(self.norm2(x)))


class StridedBlock(nn.Module):
    """Attention, then pointwise conv + strided conv instead of an MLP: shortens the sequence by ~stride."""

    def __init__(self, dim: int, heads: int, mlp: int, length: int, stride: int, pad: int) -> None:
        super().__init__()
        self.stride, self.pad = stride, pad
        self.pos = nn.Parameter(torch.zeros(1, length, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.conv1 = nn.Conv1d(dim, mlp, 1)
        self.conv2 = nn.Conv1d(mlp, dim, 3, stride=stride)

    @staticmethod
    def out_len(length: int, stride: int, pad: int) -> int:
        return (length + 2 * pad - 3) // stride + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos
        x = x + self.attn(self.norm1(x))
        h = F.relu(self.conv1(self.norm2(x).transpose(1, 2)))
        h = self.conv2(F.pad(h, (self.pad, self.pad))).transpose(1, 2)
        # Residual: the token at the centre of each conv footprint.
        res = x[:, 1 - self.pad :: self.stride][:, : h.shape[1]]
        return res + h


class UpliftUpsample(nn.Module):
    def __init__(self, cfg: UpliftConfig) -> None:
        super().__init__()
        self.cfg = cfg
        j, n = cfg.n_joints, cfg.n_tok
        depth = cfg.joint_depth + cfg.temp_depth
        rates = [cfg.drop_path * i / max(depth - 1, 1) for i in range(depth)]
        self.joint_embed = nn.Linear(2, cfg.d_joint)
        self.joint_pos = nn.Parameter(torch.zeros(1, j, cfg.d_joint))
        # Added to each joint's 2D embedding; zero at start, so a 2D-only model warm-starts unchanged. No bias:
        # all-zero features (not given) add exactly nothing, whether passed as zeros or as None.
        self.world_embed = nn.Linear(WORLD_FEATURES, cfg.d_joint, bias=False) if cfg.world_input else None
        self.spatial = nn.ModuleList(
            Block(cfg.d_joint, cfg.joint_heads, cfg.joint_mlp, nn.GELU, r) for r in rates[: cfg.joint_depth]
        )
        self.spatial_norm = nn.LayerNorm(cfg.d_joint)
        self.pose_token = nn.Linear(j * cfg.d_joint, cfg.d_temp)
        self.upsample_token = nn.Parameter(torch.zeros(1, 1, cfg.d_temp))
        self.temp_pos = nn.Parameter(torch.zeros(1, n, cfg.d_temp))
        self.temporal = nn.ModuleList(
            Block(cfg.d_temp, cfg.temp_heads, cfg.temp_mlp, nn.ReLU, r) for r in rates[cfg.joint_depth :]
        )
        self.temporal_norm = nn.LayerNorm(cfg.d_temp)
        self.seq_head = nn.Linear(cfg.d_temp, j * 3)
        blocks, length = [], n
        for r, p in zip(cfg.strides, cfg.paddings):
            blocks.append(StridedBlock(cfg.d_temp, cfg.temp_heads, cfg.strided_mlp, length, r, p))
            length = StridedBlock.out_len(length, r, p)
        if length != 1:
            raise ValueError(f"strides {cfg.strides} / paddings {cfg.paddings} reduce {n} tokens to {length}, not 1")
        self.strided = nn.ModuleList(blocks)
        self.centre_norm = nn.LayerNorm(cfg.d_temp)
        self.centre_head = nn.Linear(cfg.d_temp, j * 3)
        for p in (self.joint_pos, self.upsample_token, self.temp_pos):
            nn.init.trunc_normal_(p, std=0.02)
        self.apply(self._init)
        if self.world_embed is not None:
            nn.init.zeros_(self.world_embed.weight)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)

    def embed_poses(self, poses: torch.Tensor, world: torch.Tensor | None = None) -> torch.Tensor:
        """Spatial transformer on individual poses: [K, 17, 2] (+ world [K, 17, 4]) -> [K, d_temp]."""
        x = self.joint_embed(poses) + self.joint_pos
        if self.world_embed is not None and world is not None:
            x = x + self.world_embed(world)
        for blk in self.spatial:
            x = blk(x)
        return self.pose_token(self.spatial_norm(x).flatten(1))

    def forward_tokens(self, tokens: torch.Tensor, key: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Temporal + strided part. tokens [B, n_tok, d_temp] (values at non-key positions ignored)."""
        b, n, _ = tokens.shape
        x = torch.where(key[..., None], tokens, self.upsample_token.to(tokens.dtype)) + self.temp_pos
        # First block: keys/values from key-frame tokens only.
        bias = torch.zeros(b, 1, 1, n, dtype=x.dtype, device=x.device).masked_fill(~key[:, None, None, :], -1e9)
        for i, blk in enumerate(self.temporal):
            x = blk(x, bias if i == 0 else None)
        x = self.temporal_norm(x)
        seq = self.seq_head(x).view(b, n, -1, 3)
        for blk in self.strided:
            x = blk(x)
        centre = self.centre_head(self.centre_norm(x[:, 0])).view(b, -1, 3)
        return seq, centre

    def forward_windows(
        self, poses: torch.Tensor, index: torch.Tensor, world: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """poses [K, 17, 2] (world [K, 17, 4]) and index [B, n_tok] into them (-1 = no key-frame) -> seq, centre.

        Why: the lifter's whole per-batch step in one call, so the ONNX graph (inference/training/export_onnx.py)
        and the torch backend compute the same thing; only the poses a batch uses are embedded.
        """
        tokens = self.embed_poses(poses, world)[index.clamp(min=0)]
        return self.forward_tokens(tokens, index >= 0)

    def forward(
        self, x2d: torch.Tensor, key: torch.Tensor, world: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, n = key.shape
        tokens = torch.zeros(b, n, self.cfg.d_temp, dtype=x2d.dtype, device=x2d.device)
        if key.any():
            tokens = tokens.index_put((key,), self.embed_poses(x2d[key], None if world is None else world[key]))
        return self.forward_tokens(tokens, key)


def flip_2d(x2d: torch.Tensor) -> torch.Tensor:
    """Mirror normalised 2D about the image's vertical centre line and swap left/right joints."""
    out = x2d[..., list(FLIP_PERM), :].clone()
    out[..., 0] = -out[..., 0]
    return out


def flip_3d(x3d: torch.Tensor) -> torch.Tensor:
    """Mirror camera-space 3D (negate x) and swap left/right joints."""
    out = x3d[..., list(FLIP_PERM), :].clone()
    out[..., 0] = -out[..., 0]
    return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
