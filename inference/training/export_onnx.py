"""`python -m inference export-onnx`: the shipped weights as an ONNX graph, so capture runs without torch.

What is exported is `UpliftUpsample.forward_windows` (key-frame poses [K,17,2] + a window index [B,n_tok]
-> seq, centre) with K and B dynamic: the whole network step of the lifter; everything around it (grid,
windows, flip TTA, cross-fade) is numpy in inference/lift/lifter.py. The file carries the config and the
sha256 of the safetensors it came from (inference/lift/onnx_backend.py refuses a stale one). Weights that
are exactly representable in fp16 (all of them: the safetensors are fp16) are stored as fp16 and cast to
fp32 once when ONNX Runtime loads the graph: half the file, bit-identical weights, fp32 arithmetic.
The command checks the result against torch with ONNX Runtime before it replaces the output file.

    .venv/bin/python -m inference export-onnx                       # shipped weights -> beside them
    .venv/bin/python -m inference export-onnx --weights runs/x.safetensors -o /tmp/x.onnx
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from ..lift import onnx_backend as ob
from ..lift.weights import DEFAULT_WEIGHTS, file_sha256, load_model

OPSET = 18  # LayerNormalization is opset 17; 18 is what ONNX Runtime's CPU, CUDA, DirectML and CoreML all run
TOLERANCE = 1e-4  # metres: ONNX vs torch on random windows


def _module(model):
    import torch

    class Windows(torch.nn.Module):
        def __init__(self, m) -> None:
            super().__init__()
            self.m = m

        def forward(self, poses, index):
            return self.m.forward_windows(poses, index)

    class WorldWindows(Windows):
        def forward(self, poses, index, world):
            return self.m.forward_windows(poses, index, world)

    return (WorldWindows if model.cfg.world_input else Windows)(model).eval()


def input_names(cfg) -> list[str]:
    """The graph's inputs: a world-landmark model takes them as a third (ob.WORLD_INPUT)."""
    return list(ob.INPUTS) + ([ob.WORLD_INPUT] if cfg.world_input else [])


def example_world(cfg, k: int, seed: int = 0) -> np.ndarray:
    """World features for example_inputs' poses: metres within ±0.8, a quarter of the key-frames without."""
    rng = np.random.default_rng(seed + 100)
    world = np.concatenate([rng.uniform(-0.8, 0.8, (k, cfg.n_joints, 3)), np.ones((k, cfg.n_joints, 1))], -1)
    world[rng.random(k) < 0.25] = 0.0
    return world.astype(np.float32)


def example_inputs(cfg, k: int, b: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plausible-range random inputs: normalised 2D in [-0.6, 0.6], about half the positions key-frames."""
    rng = np.random.default_rng(seed)
    poses = rng.uniform(-0.6, 0.6, (k, cfg.n_joints, 2)).astype(np.float32)
    index = rng.integers(0, k, (b, cfg.n_tok))
    index[rng.random(index.shape) < 0.5] = -1
    index[:, cfg.n_tok // 2] = 0
    index[b // 2] = -1  # a window with no key-frame at all (the lifter makes these inside long gaps)
    return poses, index.astype(np.int64)


def to_onnx(model, opset: int = OPSET):
    """torch model -> onnx.ModelProto of forward_windows with dynamic K and B (torch.export-based exporter)."""
    import torch

    poses, index = example_inputs(model.cfg, 16, 4)
    n_key = torch.export.Dim("K", min=1)
    dims = {"poses": {0: n_key}, "index": {0: torch.export.Dim("B", min=1)}}
    args = (torch.from_numpy(poses), torch.from_numpy(index))
    if model.cfg.world_input:
        dims[ob.WORLD_INPUT] = {0: n_key}
        args = args + (torch.from_numpy(example_world(model.cfg, 16)),)
    prog = torch.onnx.export(
        _module(model),
        args,
        input_names=input_names(model.cfg),
        output_names=list(ob.OUTPUTS),
        dynamic_shapes=dims,
        opset_version=opset,
        dynamo=True,
        external_data=False,
        verbose=False,
    )
    return prog.model_proto


def store_fp16(proto, min_size: int = 64) -> int:
    """Store float32 initializers that fp16 represents exactly as fp16 + a Cast node; returns how many.

    Lossless by construction (values that would change stay fp32); ONNX Runtime folds the casts at load.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph, casts, kept = proto.graph, [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        with np.errstate(over="ignore"):  # out-of-range values become inf, fail the comparison, stay fp32
            half = arr.astype(np.float16)
        if init.data_type != TensorProto.FLOAT or arr.size < min_size or not np.array_equal(half, arr):
            kept.append(init)
            continue
        kept.append(numpy_helper.from_array(half, init.name + "__fp16"))
        casts.append(
            helper.make_node(
                "Cast", [init.name + "__fp16"], [init.name], to=TensorProto.FLOAT, name=init.name + "__cast"
            )
        )
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(proto)
    return len(casts)


def describe(proto, weights: Path, config_json: str) -> None:
    """The metadata that makes the file self-describing and lets the runtime detect a stale export.

    The exporter's per-node metadata (stack traces with this machine's paths) is dropped: it is noise in a
    shipped file and would make two exports of the same weights differ.
    """
    import onnx
    import torch

    for node in proto.graph.node:
        del node.metadata_props[:]
        node.doc_string = ""

    meta = {
        ob.META_FORMAT: ob.FORMAT,
        ob.META_CONFIG: config_json,
        ob.META_SHA: file_sha256(weights),
        ob.META_SOURCE: weights.name,
        "inputs": ",".join(ob.INPUTS),
        "outputs": ",".join(ob.OUTPUTS),
        "exporter": f"torch {torch.__version__}, onnx {onnx.__version__}",
    }
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    proto.producer_name = "uplift-mocap export-onnx"


def check(path: Path, model, tolerance: float = TOLERANCE) -> float:
    """Max |ONNX Runtime - torch| (metres) over random batches of several sizes; raises if over tolerance."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for k, b, seed in ((1, 1, 1), (40, 7, 2), (200, 64, 3)):
        poses, index = example_inputs(model.cfg, k, b, seed)
        feeds = {"poses": poses, "index": index}
        world = None
        if model.cfg.world_input:
            feeds[ob.WORLD_INPUT] = example_world(model.cfg, k, seed)
            world = torch.from_numpy(feeds[ob.WORLD_INPUT])
        got = sess.run(list(ob.OUTPUTS), feeds)
        with torch.inference_mode():
            ref = model.forward_windows(torch.from_numpy(poses), torch.from_numpy(index), world)
        worst = max(worst, *(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref)))
    if worst > tolerance:
        raise RuntimeError(f"ONNX export of {path} differs from torch by {worst:.2e} m (> {tolerance:g})")
    return worst


def export(
    weights: str | Path | None = None, out: str | Path | None = None, opset: int = OPSET, fp16_storage: bool = True
) -> tuple[Path, float]:
    """Export, describe, check and atomically write; returns (path, max ONNX-vs-torch difference in metres)."""
    import onnx
    from safetensors import safe_open

    weights = Path(weights or DEFAULT_WEIGHTS)
    out = Path(out) if out else ob.onnx_path_for(weights)
    model = load_model(weights, "cpu")
    with safe_open(str(weights), framework="pt") as f:
        config_json = (f.metadata() or {})["config"]
    proto = to_onnx(model, opset)
    if fp16_storage:
        store_fp16(proto)
    describe(proto, weights, config_json)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        onnx.save_model(proto, str(tmp))
        diff = check(tmp, model)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out, diff


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m inference export-onnx",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--weights", default=None, help="safetensors to export (default: the shipped weights)")
    p.add_argument("-o", "--out", default=None, help="output .onnx (default: beside the weights, same stem)")
    p.add_argument("--opset", type=int, default=OPSET)
    p.add_argument("--fp32-storage", action="store_true", help="store weights as fp32 (twice the size)")
    a = p.parse_args(argv)
    path, diff = export(a.weights, a.out, a.opset, fp16_storage=not a.fp32_storage)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); max |onnx - torch| = {diff:.2e} m", file=sys.stderr)
    return 0
