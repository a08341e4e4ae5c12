"""Where a batch's clips run: in this process, in a pool of local processes, or as Ray tasks.

Every runner takes the same (index, job) pairs, calls `on_result(index, record)` as each clip finishes
(streamed, in completion order) and returns the indices it did not finish when told to stop. A worker
that dies (out of memory, a crash in a native library) fails only its own clip; the pool replaces it.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import batch_clip

Job = tuple[int, dict[str, Any]]
OnResult = Callable[[int, dict[str, Any]], None]


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_workers(clips: int, cpus: int | None = None) -> int:
    """One worker per two cores: MediaPipe's graph keeps about two busy on its own (its inference thread
    pool beside decoding and the landmark math), and the 3D model's runtime threads sit on top."""
    return max(1, min(clips, (cpus or usable_cpus()) // 2))


def run_inline(jobs: list[Job], on_result: OnResult, stop: threading.Event) -> list[int]:
    """In this process (a Blender binary, whose bundled Python cannot start bpy workers)."""
    left = [i for i, _ in jobs]
    for i, job in jobs:
        if stop.is_set():
            break
        try:
            rec = batch_clip.run(job)
        except KeyboardInterrupt:  # the capture was cut short: its partial output is gone (run's finally)
            stop.set()
            break
        left.remove(i)
        on_result(i, rec)
    return left


def _worker(tasks: Any, results: Any, slot: Any, threads: int) -> None:
    """A pool process: clips from `tasks` until the None sentinel. Ctrl+C reaches the whole process group,
    so workers ignore it and the parent decides how to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.dup2(2, 1)  # exporters print on stdout; the batch keeps stdout for its summary table
    batch_clip.limit_threads(threads)
    while True:
        item = tasks.get()
        if item is None:
            break
        index, job = item
        slot.value = index  # read by the parent if this process dies mid-clip
        rec = batch_clip.run(job)
        results.put((index, rec))
        slot.value = -1
    results.close()
    results.join_thread()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # pip's bpy can hang in its own teardown after torch and MediaPipe ran


def run_pool(jobs: list[Job], on_result: OnResult, stop: threading.Event, workers: int, threads: int) -> list[int]:
    ctx = mp.get_context("spawn")  # fork would copy a half-initialised bpy into each child
    tasks, results = ctx.Queue(), ctx.Queue()
    outputs = {i: Path(job["output"]) for i, job in jobs}
    for item in jobs:
        tasks.put(item)
    workers = max(1, min(workers, len(jobs)))
    for _ in range(workers):
        tasks.put(None)
    procs: list[tuple[Any, Any]] = []

    def spawn() -> None:
        slot = ctx.Value("i", -1, lock=False)  # one writer (the worker): no lock to leak
        p = ctx.Process(target=_worker, args=(tasks, results, slot, threads), daemon=True, name="uplift-batch")
        with _python_path_without_blender():
            p.start()
        procs.append((p, slot))

    for _ in range(workers):
        spawn()
    left = set(outputs)
    deaths = [0]  # workers lost without a clip in hand: they could not start
    try:
        while left and not stop.is_set():
            try:
                index, rec = results.get(timeout=0.5)
            except queue.Empty:
                _reap(procs, left, outputs, on_result, spawn, deaths, workers)
                if left and not any(p.is_alive() for p, _ in procs):  # no worker left (they could not start)
                    for i in sorted(left):
                        on_result(i, {"status": "failed", "error": "the worker processes could not start (see above)"})
                    left.clear()
                continue
            if index in left:
                left.discard(index)
                on_result(index, rec)
    except KeyboardInterrupt:
        stop.set()
    finally:
        _stop_all(procs)
        for i in left:  # whatever a killed worker had started
            batch_clip.remove_partials(outputs[i])
        tasks.cancel_join_thread()
        results.cancel_join_thread()
    return sorted(left)


def _reap(
    procs: list[tuple[Any, Any]],
    left: set[int],
    outputs: dict[int, Path],
    on_result: OnResult,
    spawn: Callable[[], None],
    deaths: list[int],
    workers: int,
) -> None:
    """A worker that died fails the clip it held; a replacement takes its place (and its sentinel)."""
    for entry in list(procs):
        p, slot = entry
        if p.exitcode is None or p.exitcode == 0:
            continue
        procs.remove(entry)
        index = slot.value
        if index not in left:
            deaths[0] += 1
            if deaths[0] > workers:  # every start fails the same way: stop trying
                continue
        else:
            left.discard(index)
            batch_clip.remove_partials(outputs[index])
            how = f"signal {-p.exitcode}" if p.exitcode < 0 else f"exit code {p.exitcode}"
            on_result(index, {"status": "failed", "error": f"the worker process died ({how}; out of memory?)"})
        if left:
            spawn()


@contextlib.contextmanager
def _python_path_without_blender() -> Iterator[None]:
    """A spawned worker starts from this process's sys.path; the folders bpy added to it (its bundled
    scripts/modules, which hold a second `bpy` package) would shadow the real bpy module there."""
    import bpy

    blender_dirs = tuple(
        os.path.join(d, "") for d in (bpy.utils.resource_path("LOCAL"), bpy.utils.resource_path("USER")) if d
    )
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if not os.path.join(p, "").startswith(blender_dirs)]
    try:
        yield
    finally:
        sys.path[:] = saved


def _stop_all(procs: list[tuple[Any, Any]]) -> None:
    for p, _ in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + 5.0
    for p, _ in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(2.0)
