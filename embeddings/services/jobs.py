"""Progress of long operations: a ``Job`` row the admin polls, and an optional callback (the terminal's bar)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone

from ..models import Job

# Write progress to the database at most this often: each write is one UPDATE.
PROGRESS_INTERVAL_SECONDS = 0.5


class JobProgress:
    def __init__(self, job: Job | None = None, callback: Callable[[int, int, str], None] | None = None):
        self.job = job
        self.callback = callback
        self._last_write = 0.0
        self.done = 0
        self.total = 0
        self.message = ""

    def start(self, *, total: int, message: str) -> None:
        self.done, self.total, self.message = 0, total, message
        if self.job is not None:
            fields = {"state": Job.State.RUNNING, "done": 0, "total": total, "message": message[:255]}
            if self.job.started_at is None:
                fields["started_at"] = self.job.started_at = timezone.now()
            Job.objects.filter(pk=self.job.pk).update(**fields, updated_at=timezone.now())
        self._notify(force=True)

    def advance(self, done: int) -> None:
        self.done = done
        self._notify(force=done >= self.total)

    def _notify(self, *, force: bool) -> None:
        if self.callback:
            self.callback(self.done, self.total, self.message)
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
