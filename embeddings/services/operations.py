"""Operations an operator starts (train the head, build and activate a generation), run as ``Job`` rows:
in the foreground by a management command, or by a worker; and the periodic check that hands a job whose worker
died to another worker."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..models import EmbeddingGeneration, Job
from .generations import (
    build_notes,
    generation_activate,
    generation_build,
    generation_create,
    generations_collect,
)
from .jobs import JobHeartbeat, JobProgress, ProgressCallback, job_lock
from .training import alignment_train

logger = logging.getLogger(__name__)

# The kinds ``job_run`` runs (and so the kinds that have a heartbeat and can be re-queued).
RUNNABLE_KINDS = (Job.Kind.TRAIN, Job.Kind.BUILD)
# Stalled jobs handled per run of the periodic check; more wait for the next run (there is rarely more than one).
STALLED_JOBS_PER_RUN = 20


def job_start(*, kind: str, options: dict | None = None, run_async: bool = True) -> Job:
    """Record a job; with ``run_async`` a worker picks it up after commit (``reindex.run_job``)."""
    job = Job.objects.create(kind=kind, options=options or {})
    if run_async:
        _job_enqueue(job.pk)
    return job


def _job_enqueue(job_id: int) -> None:
    """Send the job to the workers once the current transaction commits (at once outside one)."""
    from ..tasks import run_job_task

    def enqueue() -> None:
        result = run_job_task.delay(job_id)
        Job.objects.filter(pk=job_id).update(task_id=result.id)

    transaction.on_commit(enqueue)


def job_run(*, job: Job, callback: ProgressCallback | None = None, runners: int | None = None) -> str:
    """Run ``job`` to the end. A re-run after a crash continues: a build resumes with the chunks not yet done.

    A build shares its chunks with ``runners`` chunk-runner tasks it sends to the workers (the job's option
    ``runners`` wins; none given: 0, the whole build in this process). One process at a time runs a job (its advisory
    lock): a second delivery of its task returns at once, as does a run of a job that is done or failed. While it
    runs, the job's heartbeat shows it is alive."""
    with job_lock(job.pk) as locked:
        if not locked:
            return f"job {job.pk} is already running in another process"
        job.refresh_from_db()
        if job.state in (Job.State.DONE, Job.State.FAILED):
            return f"nothing to do: job {job.pk} is {job.state}"
        now = timezone.now()
        if job.started_at is None:
            job.started_at = now
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.RUNNING, heartbeat_at=now, started_at=job.started_at, updated_at=now
        )
        with JobHeartbeat(job.pk, interval=settings.JOB_HEARTBEAT_SECONDS):
            return _job_run_locked(job=job, callback=callback, runners=runners)


def _job_run_locked(*, job: Job, callback: ProgressCallback | None, runners: int | None) -> str:
    from ..tasks import TRANSIENT_ERRORS

    progress = JobProgress(job, callback)
    options = job.options or {}
    generation = job.generation
    try:
        if job.kind == Job.Kind.TRAIN:
            head = alignment_train(progress=progress)
            progress.finish(head=head)
            return f"trained head {head.pk}"
        if generation is None:
            generation = generation_create(
                train=bool(options.get("train")),
                image_weight=options.get("image_weight"),
                text_weight=options.get("text_weight"),
                progress=progress,
            )
            Job.objects.filter(pk=job.pk).update(generation=generation, head=generation.head)
        if generation.state == EmbeddingGeneration.State.BUILDING:
            runners = int(options.get("runners", runners or 0))
            generation_build(generation=generation, progress=progress, runners=runners)
        if options.get("activate", True):
            generation = generation_activate(generation=generation)
        notes = build_notes(generation)
        progress.finish(generation=generation, **({"message": "; ".join(notes)[:255]} if notes else {}))
        generations_collect()
        return "\n".join([f"generation {generation.pk} {generation.state}", *(f"skipped: {note}" for note in notes)])
    except TRANSIENT_ERRORS:
        # The task retries after a backoff (longer than JOB_STALL_SECONDS, perhaps): queued meanwhile, so the stall
        # check does not take the wait for a dead worker. When the database is what failed, this may not be written;
        # then the check may re-queue it too, and the job's lock keeps the two deliveries from running it twice.
        with contextlib.suppress(TRANSIENT_ERRORS):
            Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(
                state=Job.State.QUEUED, message="retrying after a lost connection", updated_at=timezone.now()
            )
        raise
    except Exception as exc:
        progress.fail(f"{exc.__class__.__name__}: {exc}")
        if generation is not None:
            EmbeddingGeneration.objects.filter(pk=generation.pk, state=EmbeddingGeneration.State.BUILDING).update(
                state=EmbeddingGeneration.State.FAILED
            )
        raise


def jobs_requeue_stalled(*, stall_seconds: float | None = None, max_requeues: int | None = None) -> dict:
    """Running jobs whose process died: no heartbeat for ``stall_seconds`` (JOB_STALL_SECONDS) and nobody holds
    their lock. A worker's job is re-queued (a build resumes after its last batch) up to ``max_requeues``
    (JOB_MAX_REQUEUES) times, then failed; a job run in the foreground is failed (its command is gone, and an
    operator who stopped it meant it). Returns the ids of both: ``{"requeued": [...], "failed": [...]}``."""
    stall_seconds = settings.JOB_STALL_SECONDS if stall_seconds is None else stall_seconds
    max_requeues = settings.JOB_MAX_REQUEUES if max_requeues is None else max_requeues
    cutoff = timezone.now() - timedelta(seconds=stall_seconds)
    # Jobs that were running before heartbeats existed have none: their last progress write stands in.
    stalled = Q(state=Job.State.RUNNING, kind__in=RUNNABLE_KINDS) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff)
    )
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    for job in Job.objects.filter(stalled).order_by("id")[:STALLED_JOBS_PER_RUN]:
        with job_lock(job.pk) as locked:
            if not locked:  # its runner is alive (its heartbeat thread is not?) or its connection not yet closed
                logger.warning("job %s: no heartbeat since %s, but a process still holds its lock", job.pk,
                               job.heartbeat_at or job.updated_at)  # fmt: skip
                continue
            verdict = _job_stalled_settle(job=job, stalled=stalled, stall_seconds=stall_seconds,
                                          max_requeues=max_requeues)  # fmt: skip
        if verdict == "requeued":
            _job_enqueue(job.pk)  # after the lock is released: the worker that takes the task takes the lock
        if verdict:
            outcome[verdict].append(job.pk)
    return outcome


def _job_stalled_settle(*, job: Job, stalled: Q, stall_seconds: float, max_requeues: int) -> str | None:
    """Re-queue or fail one stalled job, under its lock; the UPDATEs re-check that it is still stalled."""
    now = timezone.now()
    if job.task_id and job.requeues < max_requeues:
        n = job.requeues + 1
        message = f"re-queued ({n} of {max_requeues}): no heartbeat for {stall_seconds:g} s, its worker stopped"
        updated = Job.objects.filter(stalled, pk=job.pk).update(
            state=Job.State.QUEUED, requeues=F("requeues") + 1, message=message, updated_at=now
        )
        if updated:
            logger.warning("job %s: %s", job.pk, message)
        return "requeued" if updated else None
    if job.task_id:
        error = (f"no heartbeat for {stall_seconds:g} s after {job.requeues} re-queues: its worker keeps stopping "
                 "(killed, out of memory?); given up (JOB_MAX_REQUEUES)")  # fmt: skip
    else:
        error = f"no heartbeat for {stall_seconds:g} s: the command running it in the foreground stopped"
    with transaction.atomic():
        updated = Job.objects.filter(stalled, pk=job.pk).update(
            state=Job.State.FAILED, error=error, finished_at=now, updated_at=now
        )
        if updated and job.generation_id:
            EmbeddingGeneration.objects.filter(pk=job.generation_id, state=EmbeddingGeneration.State.BUILDING).update(
                state=EmbeddingGeneration.State.FAILED, error=error
            )
    if updated:
        logger.warning("job %s failed: %s", job.pk, error)
    return "failed" if updated else None
