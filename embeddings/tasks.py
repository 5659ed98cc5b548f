"""Celery tasks for embeddings: thin wrappers around the services, taking ids.

Embedding work runs on the ``embeddings`` queue, training and generation builds on ``reindex`` (names starting
with ``embeddings.`` / ``reindex.`` are routed there by settings). Tasks that do long work acknowledge late, so a
killed worker's task is delivered again; the services make a re-run harmless. A killed worker's job does not wait
for that (the broker's visibility timeout: hours): ``requeue_stalled_jobs`` sends it again once its heartbeat stops,
and likewise a build chunk (``reindex.build_chunks``: the runners that share a build's chunks).
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .models import Job

logger = logging.getLogger(__name__)

# Lost connections to PostgreSQL or Redis are worth retrying; anything else is a bug or bad data, reported.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError)

# Embedding batches: a killed worker's task is delivered again (the upserts make a re-run harmless), lost
# connections are retried with backoff, and a run is bounded in time.
EMBEDDING_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "max_retries": 8,
    "soft_time_limit": 20 * 60,
    "time_limit": 25 * 60,
}


@shared_task(name="embeddings.embed_stale", **EMBEDDING_TASK_OPTIONS)
def embed_stale_task() -> int:
    """Embed a bounded batch of stale products into the live generations; queues itself again if more remain."""
    from catalog.models import Product

    from .services.freshness import stale_products_embed

    count = stale_products_embed()
    if count and Product.objects.filter(embeddings_stale=True, embedding_error="").exists():
        embed_stale_task.apply_async(countdown=1)
    return count


@shared_task(name="embeddings.embed_products", **EMBEDDING_TASK_OPTIONS)
def embed_products_task(product_ids: list[int]) -> int:
    """Embed these products now (the admin's "re-embed selected"); products changed or gone meanwhile are fine."""
    from catalog.models import Product

    from .services.freshness import products_embed_now

    ids = list(Product.objects.filter(id__in=product_ids).order_by("id").values_list("id", flat=True))
    return products_embed_now(product_ids=ids)


@shared_task(
    name="reindex.run_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=10,
    max_retries=5,
    soft_time_limit=6 * 3600,
    time_limit=6 * 3600 + 300,
)
def run_job_task(job_id: int) -> str:
    """Run a training or build job recorded in ``Job`` (re-delivery after a crash resumes it; a job that is done,
    failed or running elsewhere is left alone). A build shares its chunks with EMBEDDING_BUILD_RUNNERS chunk-runner
    tasks unless the job says otherwise."""
    from django.conf import settings

    from .services.operations import job_run

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return "nothing to do"
    return job_run(job=job, runners=settings.EMBEDDING_BUILD_RUNNERS)


# A chunk runner takes new chunks for this long, then sends a new runner in its place: below its soft time limit by
# far more than a chunk takes (EMBEDDING_BUILD_CHUNK_SIZE products: seconds to minutes).
RUNNER_BUDGET_SECONDS = 3600


@shared_task(
    name="reindex.build_chunks",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=10,
    max_retries=5,
    soft_time_limit=2 * 3600,
    time_limit=2 * 3600 + 300,
)
def build_chunks_task(generation_id: int) -> int:
    """Take and embed chunks of a generation being built until none is left to take (a chunk runner: any number of
    them, on any machine, share one build); returns how many chunks this run finished. Past RUNNER_BUDGET_SECONDS it
    hands over to a new runner task, well within its time limit."""
    from .services.build_chunks import build_chunks_work

    return build_chunks_work(generation_id=generation_id, budget_seconds=RUNNER_BUDGET_SECONDS)


@shared_task(name="embeddings.requeue_stalled_jobs", soft_time_limit=60, time_limit=90)
def requeue_stalled_jobs_task() -> dict:
    """Hand running jobs and build chunks whose worker died (no heartbeat) to the workers again, or fail them
    (periodic)."""
    from .services.build_chunks import build_chunks_requeue_stalled
    from .services.operations import jobs_requeue_stalled

    return {**jobs_requeue_stalled(), "chunks": build_chunks_requeue_stalled()}


@shared_task(name="embeddings.collect_generations")
def collect_generations_task() -> list[int]:
    from .services.generations import generations_collect

    return generations_collect()
