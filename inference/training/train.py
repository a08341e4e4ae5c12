"""`python -m inference train`: train the uplifting model on mocap with virtual cameras (CPU or GPU).

Progress goes to stdout (one line every --log-every steps); a checkpoint (model, EMA, optimiser, step) is
written to <out>/ckpt.pt every --ckpt-minutes and at the end; rerunning the same command resumes from it.
`--export <file.safetensors>` writes the EMA weights (fp16 by default) with the config in the metadata.

Schedule: AdamW, lr and weight decay both x`--decay` every `--epoch-steps` steps (the paper's x0.99 per
epoch), linear warm-up, optional linear cool-down at the end (--cooldown), EMA of the weights (used for
validation and export), flip augmentation, multi-stride key-frame sampling (inference/training/synth.py).
Loss = 0.5 centre MPJPE + 0.5 sequence MPJPE + w_vel x velocity error + w_acc x acceleration error of the sequence
+ w_range x motion-range error (the temporal terms keep learned in-betweens as smooth as the motion, the range
term keeps them moving as far as it). `--init W` warm-starts from exported weights; for a short fine-tune
lower --ema too (0.999 over 700 steps keeps half of the start). `--rendered DIR` fills `--rendered-frac` of
each batch with real-detector windows from rendered pairs (training/rendered_batch.py; DIR holds the npz files
of addon.render_humans, train split only).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import signal
import time
from pathlib import Path

import numpy as np
import torch

from ..lift.config import WORLD_FEATURES
from ..lift.model import PRESETS, UpliftConfig, UpliftUpsample, count_parameters, get_config
from ..lift.weights import save_weights
from ..skeleton import BONES
from .data import DEFAULT_MOCAP, load_clips
from .rendered_batch import load_rendered, rendered_batch
from .synth import training_batch
from .world_synth import fit_world_noise, synthetic_world


def mpjpe(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).norm(dim=-1).mean()


def range_error(seq: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """How much less (or more) each joint coordinate moves over a window [B, T, 17, 3] than the truth: position
    error alone rewards shrinking uncertain motion towards the mean pose (the v2 candidate moved at 0.3x)."""
    return (seq.std(dim=1) - y.std(dim=1)).abs().mean()


def bone_jitter(seq: torch.Tensor) -> torch.Tensor:
    """Mean over bones of each bone's length std over a window [B, T, 17, 3]: a body's bones do not change
    length, so the lifter should not either (real clips score it as bone-length std)."""
    child, parent = zip(*BONES)
    return (seq[:, :, list(child)] - seq[:, :, list(parent)]).norm(dim=-1).std(dim=1).mean()


def temporal_errors(seq: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Velocity and acceleration error of a window [B, T, 17, 3]: the learned in-betweens must move like the
    motion (position error alone lets them jitter around the right place)."""
    dv = torch.diff(seq, dim=1) - torch.diff(y, dim=1)
    da = torch.diff(seq, n=2, dim=1) - torch.diff(y, n=2, dim=1)
    return dv.norm(dim=-1).mean(), da.norm(dim=-1).mean()


def concat_batches(a: dict, b: dict) -> dict:
    """Samples of a then b; an input only one of them carries (world landmarks) is zeros for the other's,
    which is what the model sees when it is not given."""
    out = {}
    for k in dict.fromkeys([*a, *b]):
        like = a.get(k, b.get(k))
        pa = a.get(k, np.zeros((len(a["key"]),) + like.shape[1:], like.dtype))
        pb = b.get(k, np.zeros((len(b["key"]),) + like.shape[1:], like.dtype))
        out[k] = np.concatenate([pa, pb])
    return out


def with_world_input(model: UpliftUpsample) -> UpliftUpsample:
    """The same network with the (zero-initialised) world-landmark input added: it computes exactly what the
    2D-only one did until training teaches it to use what MediaPipe's world landmarks add."""
    if model.cfg.world_input:
        return model
    new = UpliftUpsample(dataclasses.replace(model.cfg, world_input=True))
    missing, unexpected = new.load_state_dict(model.state_dict(), strict=False)
    if unexpected or any(not k.startswith("world_embed.") for k in missing):
        raise RuntimeError(f"cannot add the world input: missing {missing}, unexpected {unexpected}")
    return new


def batch_loss(
    model: UpliftUpsample,
    batch: dict,
    device: torch.device,
    w_vel: float = 0.0,
    w_acc: float = 0.0,
    w_range: float = 0.0,
    w_bone: float = 0.0,
) -> tuple[torch.Tensor, dict]:
    """0.5 centre MPJPE + 0.5 sequence MPJPE, plus the weighted velocity / acceleration / motion-range errors and
    bone-length jitter."""
    x = torch.from_numpy(batch["x2d"]).to(device)
    key = torch.from_numpy(batch["key"]).to(device)
    y = torch.from_numpy(batch["y3d"]).to(device)
    world = torch.from_numpy(batch["world"]).to(device) if model.cfg.world_input and "world" in batch else None
    seq, centre = model(x, key, world)
    c = model.cfg.n_tok // 2
    l_seq, l_c = mpjpe(seq, y), mpjpe(centre, y[:, c])
    l_vel, l_acc = temporal_errors(seq, y)
    l_range = range_error(seq, y)
    loss = 0.5 * l_seq + 0.5 * l_c + w_vel * l_vel + w_acc * l_acc + w_range * l_range
    if w_bone:
        loss = loss + w_bone * bone_jitter(seq)
    parts = {
        "seq_mm": 1000 * l_seq.item(),
        "centre_mm": 1000 * l_c.item(),
        "vel_mm": 1000 * l_vel.item(),
        "acc_mm": 1000 * l_acc.item(),
        "range_mm": 1000 * l_range.item(),
    }
    return loss, parts


class EMA:
    """Exponential moving average of parameters and buffers (with the usual warm-up of the decay)."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.state[k].copy_(v)


def save_checkpoint(path: Path, model, ema: EMA, opt, step: int, cfg: UpliftConfig, args: dict, hours: float) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "ema": ema.state,
            "opt": opt.state_dict(),
            "step": step,
            "config": json.dumps(cfg.to_dict()),
            "args": json.dumps(args),
            "hours": hours,
        },
        tmp,
    )
    tmp.replace(path)


@torch.no_grad()
def validate(model: UpliftUpsample, state: dict, val_batches: list[dict], device: torch.device) -> float:
    """Centre MPJPE (mm) of the given weights on fixed validation batches."""
    backup = {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    model.eval()
    vals = [batch_loss(model, b, device)[1]["centre_mm"] for b in val_batches]
    model.load_state_dict(backup)
    model.train()
    return float(np.mean(vals))


def lr_scale(step: int, args: argparse.Namespace) -> float:
    """Factor on lr and weight decay: warm-up, x`decay` per epoch, then a linear cool-down to 0 over the
    last `cooldown` steps (set on a resumed run to land a run early without a jump in the schedule)."""
    scale = args.decay ** (step // args.epoch_steps) * min(1.0, (step + 1) / args.warmup)
    if args.cooldown:
        scale *= min(1.0, max(args.steps - step, 0) / args.cooldown)
    return scale


def train(args: argparse.Namespace) -> Path:
    torch.set_num_threads(args.threads)
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "ckpt.pt"
    cfg = get_config(args.preset)
    if args.world:
        cfg = dataclasses.replace(cfg, world_input=True)
    start, hours_before = 0, 0.0
    model = UpliftUpsample(cfg).to(device)
    ema = EMA(model, args.ema)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
    if ckpt_path.exists() and not args.fresh:
        ck = torch.load(ckpt_path, map_location=device, weights_only=True)
        cfg = UpliftConfig.from_dict(json.loads(ck["config"]))
        model = UpliftUpsample(cfg).to(device)
        model.load_state_dict(ck["model"])
        ema = EMA(model, args.ema)
        ema.state = {k: v.to(device) for k, v in ck["ema"].items()}
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
        opt.load_state_dict(ck["opt"])
        start, hours_before = int(ck["step"]), float(ck.get("hours", 0.0))
        print(f"resumed from {ckpt_path} at step {start}", flush=True)
    elif args.init:  # warm start: a new run from exported weights (their config wins over --preset)
        from ..lift.weights import load_model

        init = load_model(args.init, "cpu")
        model = UpliftUpsample(init.cfg)
        model.load_state_dict(init.state_dict())
        if args.world:
            model = with_world_input(model)
        cfg = model.cfg
        model = model.to(device)
        ema = EMA(model, args.ema)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)
        print(f"warm start from {args.init}", flush=True)
    print(
        f"preset {args.preset}: {count_parameters(model):,} parameters, n_tok {cfg.n_tok}, fps {cfg.fps}, "
        f"device {device}, threads {args.threads}",
        flush=True,
    )
    clips = load_clips(args.mocap, fps=cfg.fps, split="train", max_clips=args.max_clips)
    print(f"{len(clips)} training clips, {sum(len(c.joints) for c in clips) / cfg.fps / 60:.1f} min", flush=True)
    rendered, n_rendered, noise = [], 0, None
    if args.rendered:
        rendered = load_rendered(args.rendered)
        n_rendered = round(args.rendered_frac * args.batch)
        if args.world and args.world_synth:
            noise = fit_world_noise(rendered)
            print(
                f"world-landmark noise from {len(noise.rot_deg)} sequences: their axes "
                f"{np.median(noise.rot_deg):.1f} deg off (median), size x{np.median(noise.scale):.2f}, joint error std "
                f"{1000 * np.linalg.norm(noise.joint_std, axis=-1).mean():.0f} mm; on {args.world_synth:.0%} of "
                "synthetic windows",
                flush=True,
            )
        print(
            f"{len(rendered)} rendered sequences (clip x detector) from {args.rendered}: {n_rendered} of each "
            f"batch of {args.batch}",
            flush=True,
        )
    val_batches = []
    if args.val_every:
        vclips = load_clips(args.mocap, fps=cfg.fps, split="val", max_clips=args.max_clips)
        vrng = np.random.default_rng(1234)
        val_batches = [training_batch(vclips, cfg, args.batch, vrng) for _ in range(args.val_batches)]
    rng = np.random.default_rng(args.seed + start)
    torch.manual_seed(args.seed + start)
    model.train()
    t_start, t_log, last_ckpt = time.time(), time.time(), time.time()
    run_log = []
    stop = {"now": False}
    old = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    step = start
    for step in range(start, args.steps):
        scale = lr_scale(step, args)
        for g in opt.param_groups:
            g["lr"], g["weight_decay"] = args.lr * scale, args.wd * scale
        batch = training_batch(clips, cfg, args.batch - n_rendered, rng, args.proportions)
        if noise is not None:
            batch["world"] = np.zeros(batch["x2d"].shape[:3] + (WORLD_FEATURES,), np.float32)
            pick = rng.random(len(batch["key"])) < args.world_synth
            batch["world"][pick] = synthetic_world(batch["y3d"][pick], batch["key"][pick], noise, rng)
        if n_rendered:
            batch = concat_batches(batch, rendered_batch(rendered, cfg, n_rendered, rng))
        loss, parts = batch_loss(model, batch, device, args.w_vel, args.w_acc, args.w_range, args.w_bone)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model, step)
        loss_v = loss.item()
        if not math.isfinite(loss_v):
            raise RuntimeError(f"loss became {loss_v} at step {step}")
        run_log.append(loss_v)
        done = step + 1
        if done % args.log_every == 0 or done == args.steps:
            dt = time.time() - t_log
            t_log = time.time()
            print(
                f"step {done}/{args.steps} loss {1000 * np.mean(run_log[-args.log_every :]):.1f} mm "
                f"(seq {parts['seq_mm']:.1f}, centre {parts['centre_mm']:.1f}, vel {parts['vel_mm']:.2f}, "
                f"acc {parts['acc_mm']:.2f}, range {parts['range_mm']:.2f}) lr {args.lr * scale:.2e} "
                f"{args.log_every * args.batch / dt:.0f} samples/s",
                flush=True,
            )
        if val_batches and (done % args.val_every == 0 or done == args.steps):
            print(
                f"step {done} val centre MPJPE (EMA) {validate(model, ema.state, val_batches, device):.1f} mm",
                flush=True,
            )
        if time.time() - last_ckpt > 60 * args.ckpt_minutes or done == args.steps or stop["now"]:
            hours = hours_before + (time.time() - t_start) / 3600
            save_checkpoint(ckpt_path, model, ema, opt, done, cfg, vars(args), hours)
            last_ckpt = time.time()
            print(f"checkpoint {ckpt_path} at step {done} ({hours:.2f} h)", flush=True)
        if stop["now"]:
            print("stopped by SIGTERM after saving the checkpoint", flush=True)
            break
    signal.signal(signal.SIGTERM, old)
    return ckpt_path


def export_from_checkpoint(ckpt: str | Path, dest: str | Path, fp16: bool = True) -> Path:
    ck = torch.load(ckpt, map_location="cpu", weights_only=True)
    cfg = UpliftConfig.from_dict(json.loads(ck["config"]))
    return save_weights(
        ck["ema"], cfg, dest, fp16=fp16, extra={"step": ck["step"], "train_hours": f"{ck.get('hours', 0.0):.2f}"}
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m inference train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--preset", default="compact", choices=sorted(PRESETS))
    p.add_argument("--mocap", default=str(DEFAULT_MOCAP), help="folder with *_h36m17.npz and index.json")
    p.add_argument("--out", default="runs/compact", help="run folder (log, ckpt.pt)")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--wd", type=float, default=1e-2)
    p.add_argument("--decay", type=float, default=0.98, help="lr and wd factor per epoch")
    p.add_argument("--epoch-steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--cooldown", type=int, default=0, help="linear lr cool-down over the last N steps")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--val-batches", type=int, default=4)
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--max-clips", type=int, default=None, help="use only the first N clips (smoke tests)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--init", metavar="WEIGHTS", help="warm start from exported .safetensors (ignored on resume)")
    p.add_argument("--w-vel", type=float, default=1.0, help="weight of the sequence velocity error")
    p.add_argument("--w-acc", type=float, default=2.0, help="weight of the sequence acceleration error")
    p.add_argument("--w-range", type=float, default=1.0, help="weight of the per-window motion-range error")
    p.add_argument(
        "--proportions", type=float, default=0.0, help="fraction of samples with other body proportions (synth.py)"
    )
    p.add_argument("--w-bone", type=float, default=0.0, help="weight of the bone-length jitter of the sequence")
    p.add_argument("--rendered", metavar="DIR", help="also train on real-detector pairs (addon.render_humans output)")
    p.add_argument("--rendered-frac", type=float, default=0.25, help="share of each batch from --rendered")
    p.add_argument(
        "--world",
        action="store_true",
        help="the model also sees MediaPipe's world landmarks on key-frames (only --rendered windows carry them)",
    )
    p.add_argument(
        "--world-synth",
        type=float,
        default=0.0,
        metavar="FRAC",
        help="with --world: this share of synthetic windows gets stand-in world landmarks (training/world_synth.py)",
    )
    p.add_argument("--export", metavar="FILE", help="export EMA weights of <out>/ckpt.pt to FILE and exit")
    p.add_argument("--fp32", action="store_true", help="export in float32 instead of float16")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.export:
        path = export_from_checkpoint(Path(args.out) / "ckpt.pt", args.export, fp16=not args.fp32)
        print(f"wrote {path}")
        return 0
    train(args)
    return 0
