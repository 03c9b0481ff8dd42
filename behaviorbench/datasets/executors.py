"""Where shard tasks run: in-process, a process pool (default) or Ray (optional extra).

An executor runs ``fn(*args)`` for each task and yields results as tasks finish (any order).
Each task writes its own disjoint, chunk-aligned rows of the store, so no executor moves
trajectory data back to the driver: results are small dicts of counts.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from behaviorbench.datasets.config import ConfigError


class SerialExecutor:
    """Runs tasks one after the other in this process."""

    def run(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator:
        for args in tasks:
            yield fn(*args)


class ProcessExecutor:
    """A pool of ``workers`` spawned processes (spawn: safe with Zarr's I/O thread)."""

    def __init__(self, workers: int):
        self.workers = workers

    def run(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator:
        if self.workers <= 1 or len(tasks) <= 1:
            yield from SerialExecutor().run(fn, tasks)
            return
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
            pending = {pool.submit(fn, *args) for args in tasks}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            finally:
                for fut in pending:
                    fut.cancel()


class RayExecutor:
    """Ray tasks (``pip install ray``); joins a running cluster or starts a local one.

    ``address`` None starts/joins a local Ray with ``workers`` CPUs; each task asks 1 CPU.
    """

    def __init__(self, workers: int, address: str | None = None):
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ConfigError("executor 'ray' needs Ray: pip install 'behaviorbench[ray]' "
                              "(or pip install ray)")
        self.workers = workers
        self.address = address

    def run(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator:
        try:
            import ray
        except ImportError as e:
            raise ConfigError("executor 'ray' needs Ray: pip install 'behaviorbench[ray]' "
                              "(or pip install ray)") from e
        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(1, self.workers), include_dashboard=False,
                         log_to_driver=False)
        remote = ray.remote(num_cpus=1, max_retries=2)(fn)
        pending = [remote.remote(*args) for args in tasks]
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)


EXECUTORS: dict[str, type] = {"process": ProcessExecutor, "ray": RayExecutor,
                              "serial": SerialExecutor}


def make_executor(name: str, workers: int, address: str | None = None):
    if name == "process":
        return ProcessExecutor(workers)
    if name == "serial":
        return SerialExecutor()
    if name == "ray":
        return RayExecutor(workers, address)
    raise ConfigError(f"unknown executor {name!r} (known: {', '.join(EXECUTORS)})")
