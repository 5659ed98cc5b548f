"""Operations an operator starts (train the head, build and activate a generation), run as ``Job`` rows:
in the foreground by a management command, or by a worker."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from ..models import EmbeddingGeneration, Job
from .generations import (
    build_notes,
    generation_activate,
    generation_build,
    generation_create,
    generations_collect,
)
from .jobs import JobProgress
from .training import alignment_train

logger = logging.getLogger(__name__)


def job_start(*, kind: str, options: dict | None = None, run_async: bool = True) -> Job:
    """Record a job; with ``run_async`` a worker picks it up after commit (``reindex.run_job``)."""
    job = Job.objects.create(kind=kind, options=options or {})
    if run_async:
        from ..tasks import run_job_task

        def enqueue() -> None:
            result = run_job_task.delay(job.pk)
            Job.objects.filter(pk=job.pk).update(task_id=result.id)

        transaction.on_commit(enqueue)
    return job


def job_run(*, job: Job, callback: Callable[[int, int, str], None] | None = None) -> str:
    """Run ``job`` to the end. A re-run after a crash continues: a build resumes from its generation's cursor."""
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
            generation_build(generation=generation, progress=progress)
        if options.get("activate", True):
            generation = generation_activate(generation=generation)
        notes = build_notes(generation)
        progress.finish(generation=generation, **({"message": "; ".join(notes)[:255]} if notes else {}))
        generations_collect()
        return "\n".join([f"generation {generation.pk} {generation.state}", *(f"skipped: {note}" for note in notes)])
    except TRANSIENT_ERRORS:
        raise  # the task retries; the job stays running and resumes
    except Exception as exc:
        progress.fail(f"{exc.__class__.__name__}: {exc}")
        if generation is not None:
            EmbeddingGeneration.objects.filter(pk=generation.pk, state=EmbeddingGeneration.State.BUILDING).update(
                state=EmbeddingGeneration.State.FAILED
            )
        raise
