"""Where trial chunks run: in this process, in local worker processes, or on a Dask cluster.

Every backend maps a picklable top-level function over argument tuples and yields
``(key, result)`` pairs as results arrive (in any order); the caller saves each at once, so a
worker dying mid-trial loses only its unfinished chunks. Dask (``dask.distributed``) is an
optional dependency, imported only when a scheduler address is given.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol, TypeVar

from hpgsim.errors import InputError

K = TypeVar("K")
R = TypeVar("R")


class Backend(Protocol):
    """Runs ``fn(*args)`` for each tuple of ``tasks``; yields ``(keys[i], result)``."""

    def map(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]],
            keys: Sequence[K]) -> Iterator[tuple[K, R]]: ...


class InProcess:
    """One task after the other in this process (numba still uses every core per chunk)."""

    def map(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]],
            keys: Sequence[K]) -> Iterator[tuple[K, R]]:
        """Yield results in task order."""
        for key, args in zip(keys, tasks, strict=True):
            yield key, fn(*args)


class LocalProcesses:
    """``workers`` local processes (spawned, so that numba's threads are not forked)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise InputError("--workers", workers, "must be positive", "give e.g. 2")
        self.workers = workers

    def map(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]],
            keys: Sequence[K]) -> Iterator[tuple[K, R]]:
        """Yield results as they complete."""
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = {pool.submit(fn, *args): key for key, args in zip(keys, tasks, strict=True)}
            for future in as_completed(futures):
                yield futures[future], future.result()


class DaskCluster:
    """A ``dask.distributed`` scheduler at ``address`` (e.g. ``tcp://host:8786``)."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise InputError("--scheduler", address, "dask.distributed is not installed",
                             "pip install 'dask[distributed]', or use --workers") from None
        try:
            self.client = Client(address, timeout=timeout_s)
        except (OSError, TimeoutError) as err:
            raise InputError("--scheduler", address, f"cannot reach the scheduler ({err})",
                             "check the address and that the scheduler runs") from None

    def map(self, fn: Callable[..., R], tasks: Sequence[tuple[Any, ...]],
            keys: Sequence[K]) -> Iterator[tuple[K, R]]:
        """Yield results as they complete on the cluster."""
        from distributed import (  # type: ignore[import-not-found,unused-ignore]
            as_completed as dask_completed,
        )

        futures = {self.client.submit(fn, *args, pure=False): key
                   for key, args in zip(keys, tasks, strict=True)}
        for future in dask_completed(list(futures)):
            yield futures[future], future.result()


def make_backend(workers: int | None, scheduler: str | None) -> Backend:
    """The backend the CLI options name: a scheduler, else processes, else in-process."""
    if scheduler is not None:
        return DaskCluster(scheduler)
    if workers is not None and workers != 1:
        return LocalProcesses(workers)
    return InProcess()
