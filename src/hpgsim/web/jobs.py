"""Background jobs with progress, for requests too long to answer at once (cohort bands).

One worker thread runs the jobs in order; a job reports progress through :class:`Progress`,
which also raises :class:`Cancelled` at the job's next report once a cancel was asked for.
At most ``max_active`` jobs are queued or running; finished jobs are kept (newest
``keep_finished``) so that their results can be fetched.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from hpgsim.errors import HpgsimError
from hpgsim.web.errors import error_body
from hpgsim.web.models import CohortOut, ErrorBody, FitOut, JobOut, PlanOut

Result = CohortOut | FitOut | PlanOut
Status = Literal["queued", "running", "done", "failed", "cancelled"]
logger = logging.getLogger(__name__)
ACTIVE: frozenset[Status] = frozenset({"queued", "running"})


class Cancelled(Exception):
    """Raised inside a job at its next progress report after a cancel request."""


class Busy(Exception):
    """Too many jobs queued or running."""


@dataclass
class Job:
    """A job's state; mutated only by its manager, under the manager's lock."""

    id: str
    kind: str
    status: Status = "queued"
    progress: float = 0.0
    message: str = "queued"
    result: Result | None = None
    error: ErrorBody | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def out(self) -> JobOut:
        return JobOut(id=self.id, kind=self.kind, status=self.status, progress=self.progress,
                      message=self.message, result=self.result, error=self.error)


class Progress:
    """What a running job calls to report progress (and to learn that it was cancelled)."""

    def __init__(self, manager: JobManager, job: Job) -> None:
        self._manager = manager
        self._job = job

    def __call__(self, fraction: float, message: str) -> None:
        if self._job.cancel.is_set():
            raise Cancelled
        self._manager.update(self._job, progress=min(max(fraction, 0.0), 1.0), message=message)


Work = Callable[[Progress], Result]


class JobManager:
    """Queue, run, report and cancel background jobs."""

    def __init__(self, max_active: int, keep_finished: int = 32) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hpgsim-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._max_active = max_active
        self._keep = keep_finished

    def submit(self, kind: str, work: Work) -> JobOut:
        """Queue ``work``; raises :class:`Busy` when ``max_active`` jobs are already pending."""
        with self._lock:
            if sum(j.status in ACTIVE for j in self._jobs.values()) >= self._max_active:
                raise Busy
            job = Job(uuid.uuid4().hex, kind)
            self._jobs[job.id] = job
            self._forget_old()
            out = job.out()
        self._executor.submit(self._run, job, work)
        return out

    def get(self, job_id: str) -> JobOut | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.out() if job is not None else None

    def cancel(self, job_id: str) -> JobOut | None:
        """Ask a job to stop (a queued job never starts); None if there is no such job."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            if job.status in ACTIVE:
                job.cancel.set()
                if job.status == "queued":
                    job.status, job.message = "cancelled", "cancelled before it started"
            return job.out()

    def update(self, job: Job, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def shutdown(self) -> None:
        """Cancel every pending job and wait for the running one to stop."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work: Work) -> None:
        if job.cancel.is_set():
            return
        self.update(job, status="running", message="running")
        try:
            result = work(Progress(self, job))
        except Cancelled:
            self.update(job, status="cancelled", message="cancelled")
        except HpgsimError as err:
            self.update(job, status="failed", message="failed", error=error_body(err))
        except Exception as err:  # a bug: report it on the job instead of leaving it running
            logger.exception("job %s failed", job.id)
            self.update(job, status="failed", message="failed", error=error_body(err))
        else:
            self.update(job, status="done", progress=1.0, message="done", result=result)

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status not in ACTIVE]
        for key in finished[:max(len(finished) - self._keep, 0)]:
            del self._jobs[key]

