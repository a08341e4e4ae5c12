"""The batch on Ray: one task per clip, results streamed back as they finish. Ray is an optional extra.

`--ray local` starts a private one-node cluster bound to 127.0.0.1 (nothing listens on the network) and
stops it afterwards; `--ray auto` joins the cluster this machine belongs to (`ray start` was run), any
other value is a cluster address (host:port, or ray://host:port for Ray Client). On a cluster every node
needs this checkout and its .venv at the same path, and the output folder on storage they all share.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from . import batch_clip
from .batch_pool import Job, OnResult, default_workers

RAY_PIN = "ray==2.60.0"  # the version requirements.txt pins and the tests run
# Of a GPU per task where the cluster has GPUs: only the 3D model runs there (MediaPipe, decoding, retarget and
# export stay on the CPU), so 16 tasks share one GPU and a node's cores, not its GPU count, set its tasks.
GPU_SHARE = 1 / 16
_REPO = str(Path(__file__).resolve().parents[1])


class RayMissing(RuntimeError):
    pass


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing(
            f"--ray needs Ray, an optional extra: .venv/bin/pip install '{RAY_PIN}' "
            "(or run without --ray: --workers N uses this machine's cores)"
        ) from None
    return ray


def _task(job: dict[str, Any], threads: int) -> dict[str, Any]:
    batch_clip.limit_threads(threads)
    os.dup2(2, 1)  # exporters print on stdout; the driver keeps stdout for its summary table
    return batch_clip.run(job)


def run_ray(
    jobs: list[Job],
    on_result: OnResult,
    stop: threading.Event,
    address: str,
    workers: int | None,
    gpus_per_task: float | None = None,
) -> list[int]:
    if address == "local":
        # Ray would advertise this machine's network address; this keeps every service on loopback.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = import_ray()
    env = {"PYTHONPATH": os.pathsep.join(p for p in (_REPO, os.environ.get("PYTHONPATH", "")) if p)}
    ray.init(
        address=address,
        include_dashboard=False,
        log_to_driver=True,
        runtime_env={"env_vars": env},
        configure_logging=False,
    )
    try:
        resources = ray.cluster_resources()
        cpus, gpus = int(resources.get("CPU", 1)), float(resources.get("GPU", 0))
        limit = max(1, min(len(jobs), workers or default_workers(len(jobs), cpus)))
        # CPUs per task = its thread budget: 2 on a cluster (MediaPipe keeps about two busy), so Ray places
        # cores/2 tasks on each node; on this machine the cores are shared out among the tasks in flight.
        threads = max(1, cpus // limit) if address == "local" else 2
        share = (GPU_SHARE if gpus else 0.0) if gpus_per_task is None else gpus_per_task
        task = ray.remote(num_cpus=threads, num_gpus=share, max_retries=0)(_task)
        return _stream(ray, task, jobs, on_result, stop, limit, threads)
    finally:
        ray.shutdown()


def _stream(ray: Any, task: Any, jobs: list[Job], on_result: OnResult, stop: threading.Event, limit: int, threads: int):
    todo = list(jobs)
    running: dict[Any, Job] = {}
    try:
        while (todo or running) and not stop.is_set():
            while todo and len(running) < limit:
                item = todo.pop(0)
                running[task.remote(item[1], threads)] = item
            done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in done:
                index, _job = running.pop(ref)
                try:
                    rec = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a lost worker/node fails that clip only
                    rec = {"status": "failed", "error": f"Ray task failed: {type(exc).__name__}: {exc}"[:500]}
                on_result(index, rec)
    except KeyboardInterrupt:
        stop.set()
    for ref in running:
        ray.cancel(ref, force=True)
    if running:  # let the killed workers go before sweeping what they were writing
        ray.wait(list(running), num_returns=len(running), timeout=10)
    for _index, job in running.values():
        batch_clip.remove_partials(Path(job["output"]))
    return sorted([i for i, _ in todo] + [i for i, _ in running.values()])
