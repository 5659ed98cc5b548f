"""Progress of long operations: a ``Job`` row the admin polls, and an optional callback (the terminal's bar); the
lock that lets one process at a time run a job, and the heartbeat that shows the process is alive."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.utils import timezone

from ..models import Job

logger = logging.getLogger(__name__)

# Write progress to the database at most this often: each write is one UPDATE.
PROGRESS_INTERVAL_SECONDS = 0.5
# Advisory lock keys are (namespace, job id); the generations' build locks use namespace 7261.
JOB_LOCK_NAMESPACE = 7262
# How long the end of a run waits for the heartbeat thread to stop (it is a daemon: a stuck one does not keep
# the process up).
HEARTBEAT_JOIN_SECONDS = 5.0


@contextmanager
def job_lock(job_id: int) -> Iterator[bool]:
    """Hold the job's session-level advisory lock for the block; yields False (holding nothing) when another session
    holds it. A killed process's connection closes, and its lock goes with it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_NAMESPACE, job_id])
            except DatabaseError:  # the connection broke (the block's error says why): its lock went with it
                logger.warning("job %s: lock not released (connection lost)", job_id)


class RowHeartbeat:
    """While the block runs, a daemon thread stamps ``heartbeat_at`` on the rows ``rows()`` selects every
    ``interval`` seconds: a thread, so the heartbeat goes on during a long batch or a training epoch. It has its own
    database connection and closes it when it stops; a killed process takes the thread, and the heartbeat, with it."""

    def __init__(self, rows: Callable[[], QuerySet], *, interval: float, name: str):
        self.rows = rows
        self.interval = interval
        self.name = name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=name, daemon=True)

    def __enter__(self) -> RowHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=HEARTBEAT_JOIN_SECONDS)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.rows().update(heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("%s: not written", self.name, exc_info=True)
                    connection.close()  # a broken connection is not reused: the next beat opens a new one
        finally:
            connection.close()  # this thread's own connection


class JobHeartbeat(RowHeartbeat):
    """The heartbeat of a running job (``jobs_requeue_stalled`` reads it)."""

    def __init__(self, job_id: int, *, interval: float):
        self.job_id = job_id
        super().__init__(
            lambda: Job.objects.filter(pk=job_id, state=Job.State.RUNNING), interval=interval,
            name=f"job-{job_id}-heartbeat",
        )  # fmt: skip


# The terminal's progress callback: (done, total, message, detail); a new message starts a new phase (a new bar),
# the detail (which chunks, which workers) changes within one.
ProgressCallback = Callable[[int, int, str, str], None]


class JobProgress:
    def __init__(self, job: Job | None = None, callback: ProgressCallback | None = None):
        self.job = job
        self.callback = callback
        self._last_write = 0.0
        self.done = 0
        self.total = 0
        self.message = ""
        self.detail = ""

    def start(self, *, total: int, message: str) -> None:
        self.done, self.total, self.message, self.detail = 0, total, message, ""
        if self.job is not None:
            fields = {"state": Job.State.RUNNING, "done": 0, "total": total, "message": message[:255]}
            if self.job.started_at is None:
                fields["started_at"] = self.job.started_at = timezone.now()
            Job.objects.filter(pk=self.job.pk).update(**fields, updated_at=timezone.now())
        self._notify(force=True)

    def advance(self, done: int, *, detail: str | None = None) -> None:
        self.done = done
        if detail is not None:
            self.detail = detail
        self._notify(force=done >= self.total)

    def _notify(self, *, force: bool) -> None:
        if self.callback:
            self.callback(self.done, self.total, self.message, self.detail)
        now = time.monotonic()
        if self.job is not None and (force or now - self._last_write >= PROGRESS_INTERVAL_SECONDS):
            Job.objects.filter(pk=self.job.pk).update(done=self.done, total=self.total, updated_at=timezone.now())
            self._last_write = now

    def finish(self, **links) -> None:
        if self.job is not None:
            Job.objects.filter(pk=self.job.pk).update(
                state=Job.State.DONE, done=self.total, finished_at=timezone.now(), updated_at=timezone.now(), **links
            )

    def fail(self, error: str) -> None:
        if self.job is not None:
            Job.objects.filter(pk=self.job.pk).update(
                state=Job.State.FAILED, error=error[:5000], finished_at=timezone.now(), updated_at=timezone.now()
            )
