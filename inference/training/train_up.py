"""Train the learned up cue (retarget/learned_up.py) on the lifter's output under tilted cameras (up_data.py).

The network sees a whole capture: windows of WINDOW lifted poses DT_S apart (the 16 non-root joints,
pelvis-relative camera coordinates, flattened), one every HOP_S, each encoded by an MLP, pooled by learned
attention weights, and a head gives up in camera coordinates and log sigma. Why pooled and not per window:
a per-window estimate shrinks towards the training cameras' mean (its evidence is weak), and fusing many
windows keeps that shrink, so long clips stayed biased towards level; pooled, the shrink happens once.
Loss: negative log-likelihood of the angle under a 2D Gaussian on the tangent plane (a^2 / 2 s^2 + 2 log s).
Augmentation: a random run of a capture's windows (short clips), mirror (x -> -x, left <-> right), roll
(rotation about the view axis, up rotated with it: the lifter follows an image rotation), input jitter.
Captures of one in ten TRAIN clips (by name) are held out: they pick the best step and scale sigma so it is
honest (median angle / sigma as for a 2D Gaussian). The validation split is never touched (bench/upright.py).

    .venv/bin/python -m inference.training.up_data --out runs/up_data.npz --clips 5000
    .venv/bin/python -m inference.training.up_data --out runs/up_data_s1.npz --clips 5000 --seed 1
    .venv/bin/python -m inference.training.train_up --data runs/up_data.npz runs/up_data_s1.npz \\
        --out retarget/weights/learned_up.safetensors
"""

from __future__ import annotations

import argparse
import time
import zlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..skeleton import FLIP_PERM

FORMAT = "uplift-learned-up-pooled"  # retarget.learned_up.FORMAT (retarget and inference do not import each other)
WINDOW = 16
DT_S = 0.1
FPS = 30.0
HOP_S = 0.2
ROLL_AUG_DEG = 30.0
MAX_WINDOWS = 48  # longer captures are cut (training only)


class Net(nn.Module):
    def __init__(self, d_in: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.enc = nn.ModuleList([nn.Linear(d_in, hidden), nn.Linear(hidden, hidden)])
        self.att = nn.Linear(hidden, 1)
        self.head = nn.ModuleList([nn.Linear(hidden, hidden), nn.Linear(hidden, 4)])
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, M, D] windows, mask [B, M] True where a window exists -> unit up [B,3], log sigma [B]."""
        h = x
        for lin in self.enc:
            h = self.drop(nn.functional.gelu(lin(h), approximate="tanh"))
        a = self.att(h)[..., 0].masked_fill(~mask, -1e9)
        h = (torch.softmax(a, dim=1)[..., None] * h).sum(dim=1)
        h = self.drop(nn.functional.gelu(self.head[0](h), approximate="tanh"))
        y = self.head[1](h)
        return nn.functional.normalize(y[:, :3], dim=1), y[:, 3]

    def tensors(self) -> dict[str, np.ndarray]:
        out = {}
        for name, lin in [("enc0", self.enc[0]), ("enc1", self.enc[1]), ("att", self.att)] + [
            ("head0", self.head[0]),
            ("head1", self.head[1]),
        ]:
            out[f"{name}.w"] = lin.weight.detach().numpy().astype(np.float32)
            out[f"{name}.b"] = lin.bias.detach().numpy().astype(np.float32)
        return out


def window_index(lengths: np.ndarray, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices [M, WINDOW] of every window (start every `hop` frames, shorter captures repeat their
    last frame) into the concatenated frames, and the capture of each window [M]."""
    step = int(round(DT_S * FPS))
    offs = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    idx, cap = [], []
    for c, (o, n) in enumerate(zip(offs, lengths)):
        starts = np.arange(0, max(n - 1 - (WINDOW - 1) * step, 0) + 1, hop)
        t = np.minimum(starts[:, None] + np.arange(WINDOW) * step, n - 1)
        idx.append(o + t)
        cap.append(np.full(len(starts), c))
    return np.concatenate(idx), np.concatenate(cap)


def angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.atan2(torch.linalg.norm(torch.cross(a, b, dim=1), dim=1), (a * b).sum(dim=1))


def _roll(phi: torch.Tensor) -> torch.Tensor:
    c, s, z, o = torch.cos(phi), torch.sin(phi), torch.zeros_like(phi), torch.ones_like(phi)
    return torch.stack([torch.stack([c, -s, z], -1), torch.stack([s, c, z], -1), torch.stack([z, z, o], -1)], 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, nargs="+", default=[Path("runs/up_data.npz")])
    ap.add_argument("--out", type=Path, default=Path("retarget/weights/learned_up.safetensors"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64, help="captures per step")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # the box is shared; a small MLP gains little from a second thread
    rng = np.random.default_rng(args.seed)
    ds = [np.load(p) for p in args.data]
    frames = torch.from_numpy(np.concatenate([d["lifted"][:, 1:] for d in ds]).astype(np.float32))  # [F,16,3]
    lengths = np.concatenate([d["lengths"] for d in ds])
    up = torch.from_numpy(np.concatenate([d["up"] for d in ds]).astype(np.float32))
    clip = np.concatenate([d["clip"] for d in ds])
    held = np.array([zlib.crc32(str(c).encode()) % 10 == 0 for c in clip])
    idx, cap = window_index(lengths, hop=int(round(HOP_S * FPS)))
    first = np.searchsorted(cap, np.arange(len(lengths)))
    count = np.bincount(cap, minlength=len(lengths))
    mean = frames.mean(dim=0).reshape(-1).repeat(WINDOW)
    std = frames.std(dim=0).reshape(-1).repeat(WINDOW) + 1e-3
    perm = [p - 1 for p in FLIP_PERM[1:]]  # flip permutation of the non-root joints

    def batch(caps: np.ndarray, train: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        m = int(min(count[caps].max(), MAX_WINDOWS)) if train else int(count[caps].max())
        rows = np.zeros((len(caps), m), np.int64)
        mask = np.zeros((len(caps), m), bool)
        for i, c in enumerate(caps):
            n = min(count[c], m)
            k = int(rng.integers(1, n + 1)) if train and rng.random() < 0.5 else n
            s = int(rng.integers(0, count[c] - k + 1)) if train else 0
            rows[i, :k] = first[c] + s + np.arange(k)
            mask[i, :k] = True
        x = frames[torch.from_numpy(idx[rows])]  # [B, M, WINDOW, 16, 3]
        y = up[torch.from_numpy(caps)].clone()
        if train:
            flip = torch.from_numpy(rng.random(len(caps)) < 0.5)
            x[flip] = x[flip][..., perm, :] * torch.tensor([-1.0, 1.0, 1.0])
            y[flip] = y[flip] * torch.tensor([-1.0, 1.0, 1.0])
            rot = _roll(torch.from_numpy(np.radians(rng.uniform(-ROLL_AUG_DEG, ROLL_AUG_DEG, len(caps)))).float())
            x = torch.einsum("bij,bmtkj->bmtki", rot, x)
            y = torch.einsum("bij,bj->bi", rot, y)
        x = (x.reshape(len(caps), m, -1) - mean) / std
        if train:
            x = x + 0.05 * torch.randn_like(x)
        return x, torch.from_numpy(mask), y

    net = Net(WINDOW * 16 * 3, args.hidden, args.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=0.05)
    fit_caps, held_caps = np.flatnonzero(~held), np.flatnonzero(held)
    print(f"{len(lengths)} captures ({len(held_caps)} held out), {len(idx)} windows", flush=True)

    def evaluate() -> tuple[np.ndarray, np.ndarray]:
        net.eval()
        errs, sig = [], []
        with torch.no_grad():
            for k in range(0, len(held_caps), 128):
                x, mask, y = batch(held_caps[k : k + 128], False)
                u, s = net(x, mask)
                errs.append(angle(u, y).numpy())
                sig.append(np.exp(s.numpy()))
        net.train()
        return np.concatenate(errs), np.concatenate(sig)

    best, best_state, t0 = 1e9, None, time.time()
    for step in range(args.steps):
        x, mask, y = batch(fit_caps[rng.integers(len(fit_caps), size=args.batch)], True)
        u, log_s = net(x, mask)
        a = angle(u, y)
        loss = (0.5 * a**2 * torch.exp(-2 * log_s) + 2 * log_s).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 250 == 0 or step + 1 == args.steps:
            err, _ = evaluate()
            med = float(np.degrees(np.median(err)))
            if med < best:
                best, best_state = med, {k: v.clone() for k, v in net.state_dict().items()}
            p90 = np.degrees(np.percentile(err, 90))
            took = time.time() - t0
            print(f"step {step + 1} loss {loss.item():.3f} held-out median {med:.2f} p90 {p90:.2f} deg {took:.0f}s")
    net.load_state_dict(best_state)
    err, sig = evaluate()
    scale = float(np.median(err / sig) / np.sqrt(2 * np.log(2)))  # median angle of a 2D Gaussian: 1.177 sigma
    print(
        f"held-out captures: median {np.degrees(np.median(err)):.2f} deg, p90 {np.degrees(np.percentile(err, 90)):.2f}"
        f" deg; sigma scale {scale:.2f}; median sigma {np.degrees(np.median(sig * scale)):.2f} deg"
    )
    tensors = {"mean": mean.numpy(), "std": std.numpy(), **net.tensors()}
    from safetensors.numpy import save_file

    meta = {
        "format": FORMAT,
        "window": str(WINDOW),
        "dt_s": str(DT_S),
        "hop_s": str(HOP_S),
        "sigma_scale": f"{scale:.4f}",
        "held_out_median_deg": f"{np.degrees(np.median(err)):.3f}",
        "held_out_p90_deg": f"{np.degrees(np.percentile(err, 90)):.3f}",
        "data": f"{len(lengths)} captures of TRAIN-split clips (inference/training/up_data.py)",
        "net": f"pooled MLP, hidden {args.hidden}, dropout {args.dropout}, weight decay {args.weight_decay}",
        "steps": str(args.steps),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata=meta)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
