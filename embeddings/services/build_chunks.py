"""Builds spread over workers: a generation build is split into id ranges (``BuildChunk``) that any number of
worker processes, on any number of machines, take in parallel.

The process that runs the build job (``generation_build``: the coordinator) plans the chunks once, sends chunk-runner
tasks (``reindex.build_chunks``) to the workers, and takes chunks itself; when there is none left to take, it waits
for the chunks the others are running, then runs the single steps after them (indexes, calibration, ready) exactly
once: it holds the job's lock and the generation's build lock, and a new run of the job after a crash does them.

A chunk is taken with ``SELECT ... FOR UPDATE SKIP LOCKED`` (no two processes take the same one) and held by its
advisory lock while its process embeds it batch by batch: one transaction per batch writes the vectors (upserts:
exactly one row per product and per photo, whoever writes them and however often) and moves the chunk's cursor, so
a process killed mid-batch leaves the batch undone and the next one resumes after the cursor. A running chunk whose
lock is free lost its process (a killed process's connection closes, and its locks with it): the next claim takes it
over, the coordinator's included, which looks every second while it waits. The periodic
``embeddings.requeue_stalled_jobs`` puts back the running chunks with no heartbeat for JOB_STALL_SECONDS and their
lock free, and sends a runner task for each, so a build keeps its workers when its coordinator is gone too (the same
check re-queues the coordinator's job). A chunk taken EMBEDDING_BUILD_CHUNK_ATTEMPTS times without finishing fails,
and the build with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from catalog.models import Product

from ..models import BuildChunk, EmbeddingGeneration
from ..selectors import build_chunks_summary
from .embedding import products_embed
from .jobs import RowHeartbeat

logger = logging.getLogger(__name__)

# Advisory lock keys are (namespace, chunk id): 7261 is the generations' build locks, 7262 the jobs'.
CHUNK_LOCK_NAMESPACE = 7263
# How often the coordinator looks at the other processes' chunks while it waits for them (one aggregate query).
CHUNK_WAIT_POLL_SECONDS = 1.0
# Chunks one claim looks at: skipping a locked one is cheap, and one is taken.
CLAIM_CANDIDATES = 16
# Stalled chunks handled per run of the periodic check; more wait for the next run.
STALLED_CHUNKS_PER_RUN = 200


class ChunkAbandoned(RuntimeError):
    """This process must stop working on its chunk: another one took it over, or the build stopped."""


def worker_name() -> str:
    """This process, as chunks record who took them: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def build_chunks_plan(*, generation: EmbeddingGeneration, chunk_size: int | None = None) -> int:
    """Split the products of ``generation``'s build into id ranges of ``chunk_size`` (EMBEDDING_BUILD_CHUNK_SIZE)
    products, once: a build that has chunks keeps them. Returns the number of chunks. The last range has no upper
    bound, so products added during the build are in it (they are also marked stale, and embedded either way).

    A build started before chunks existed resumes after its ``build_cursor``."""
    chunk_size = chunk_size or settings.EMBEDDING_BUILD_CHUNK_SIZE
    with transaction.atomic():
        EmbeddingGeneration.objects.select_for_update().filter(pk=generation.pk).first()  # one planner at a time
        existing = BuildChunk.objects.filter(generation=generation).count()
        if existing:
            return existing
        with connection.cursor() as cursor:
            # Every chunk_size-th product id, in id order, starts a chunk (one index-only scan).
            cursor.execute(
                f"SELECT id, n FROM (SELECT id, row_number() OVER (ORDER BY id) AS n "
                f"FROM {Product._meta.db_table} WHERE id > %s) AS numbered WHERE (n - 1) %% %s = 0 ORDER BY id",
                [generation.build_cursor, chunk_size],
            )
            starts = cursor.fetchall()
        count = Product.objects.filter(id__gt=generation.build_cursor).count()
        chunks = [
            BuildChunk(
                generation=generation,
                first_id=first_id,
                end_id=starts[i + 1][0] if i + 1 < len(starts) else None,
                total=(starts[i + 1][1] if i + 1 < len(starts) else count + 1) - n,
            )
            for i, (first_id, n) in enumerate(starts)
        ]
        BuildChunk.objects.bulk_create(chunks)
    return len(chunks)


def build_chunk_claim(*, generation_id: int, worker: str, max_attempts: int | None = None) -> BuildChunk | None:
    """Take a chunk of a generation being built: a pending one, else a running one whose process died (its advisory
    lock is free: a killed process's connection closed; it resumes after its cursor). Returns it with its lock held
    by this session (``build_chunk_release`` lets it go), or None when there is nothing to take. A chunk taken
    ``max_attempts`` (EMBEDDING_BUILD_CHUNK_ATTEMPTS) times already is failed instead, and None returned: the build
    has failed."""
    max_attempts = settings.EMBEDDING_BUILD_CHUNK_ATTEMPTS if max_attempts is None else max_attempts
    now = timezone.now()
    with transaction.atomic():
        if not EmbeddingGeneration.objects.filter(pk=generation_id, state=EmbeddingGeneration.State.BUILDING).exists():
            return None
        # Rows another claim is taking are skipped; of the running ones, the longest silent first.
        candidates = (
            BuildChunk.objects.select_for_update(skip_locked=True)
            .filter(generation_id=generation_id, state__in=[BuildChunk.State.PENDING, BuildChunk.State.RUNNING])
            .order_by(Case(When(state=BuildChunk.State.PENDING, then=0), default=1), "heartbeat_at", "first_id")
        )
        for chunk in candidates[:CLAIM_CANDIDATES]:
            if not _chunk_try_lock(chunk.pk):
                continue  # its process is alive after all (or its connection is not closed yet)
            try:
                if chunk.attempts >= max_attempts:
                    chunk.state, chunk.finished_at = BuildChunk.State.FAILED, now
                    chunk.error = (f"taken {chunk.attempts} times without finishing: its workers keep stopping "
                                   "(killed, out of memory?); given up (EMBEDDING_BUILD_CHUNK_ATTEMPTS)")  # fmt: skip
                    chunk.save(update_fields=["state", "finished_at", "error"])
                    logger.warning("build chunk %s failed: %s", chunk.pk, chunk.error)
                    _chunk_unlock(chunk.pk)
                    return None
                if chunk.state == BuildChunk.State.RUNNING:
                    logger.warning("build chunk %s: its process %s is gone (last heartbeat %s); taken over by %s",
                                   chunk.pk, chunk.worker, chunk.heartbeat_at, worker)  # fmt: skip
                chunk.state, chunk.attempts, chunk.worker = BuildChunk.State.RUNNING, chunk.attempts + 1, worker
                chunk.heartbeat_at, chunk.started_at, chunk.error = now, chunk.started_at or now, ""
                chunk.save(update_fields=["state", "attempts", "worker", "heartbeat_at", "started_at", "error"])
            except BaseException:
                _chunk_unlock(chunk.pk)
                raise
            return chunk
    return None


def build_chunk_run(
    *, chunk: BuildChunk, generation: EmbeddingGeneration, on_batch: Callable[[], None] | None = None
) -> None:
    """Embed the products of a claimed chunk after its cursor, one transaction per batch, and mark it done. Raises
    ``ChunkAbandoned`` when the build stopped or another process took the chunk over (this one was thought dead)."""
    mine = BuildChunk.objects.filter(pk=chunk.pk, state=BuildChunk.State.RUNNING, attempts=chunk.attempts)
    products = Product.objects.filter(id__gte=chunk.first_id)
    if chunk.end_id is not None:
        products = products.filter(id__lt=chunk.end_id)
    building = EmbeddingGeneration.objects.filter(pk=generation.pk, state=EmbeddingGeneration.State.BUILDING)
    cursor = chunk.cursor
    with RowHeartbeat(lambda: mine, interval=settings.JOB_HEARTBEAT_SECONDS, name=f"build-chunk-{chunk.pk}-heartbeat"):
        while True:
            if not building.exists():
                raise ChunkAbandoned(f"generation {generation.pk} is no longer being built")
            batch = list(
                products.filter(id__gt=cursor)
                .order_by("id")
                .values_list("id", flat=True)[: settings.EMBEDDING_BATCH_SIZE]
            )
            if not batch:
                break
            with transaction.atomic():
                result = products_embed(generation=generation, product_ids=batch)
                moved = mine.update(
                    cursor=batch[-1],
                    products=F("products") + len(batch),
                    photos=F("photos") + result.photos,
                    photo_errors=F("photo_errors") + result.photo_errors,
                    heartbeat_at=timezone.now(),
                )
                if not moved:  # rolls the batch back: its new owner writes it
                    raise ChunkAbandoned(f"build chunk {chunk.pk} was taken over by another process")
            cursor = batch[-1]
            if on_batch is not None:
                on_batch()
        now = timezone.now()
        if not mine.update(state=BuildChunk.State.DONE, finished_at=now, heartbeat_at=now):
            raise ChunkAbandoned(f"build chunk {chunk.pk} was taken over by another process")


def build_chunk_release(chunk: BuildChunk) -> None:
    """Let go of a claimed chunk's advisory lock."""
    _chunk_unlock(chunk.pk)


def build_chunks_work(
    *,
    generation_id: int,
    worker: str | None = None,
    wait: bool = False,
    on_progress: Callable[[], None] | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Take and embed chunks of a generation being built until none is left to take; returns how many this process
    finished. With ``wait`` (the coordinator), then wait for the chunks other processes are running, taking over any
    whose process died, until all are done; ``GenerationError`` if a chunk failed or the build stopped. Past
    ``budget_seconds`` (a runner task's), it takes no new chunk: it sends a new runner in its place and returns.

    A chunk that fails on bad data fails (and the build with it); a lost connection puts it back for any process to
    take, and is raised for the task to retry."""
    from ..tasks import TRANSIENT_ERRORS
    from .generations import GenerationError

    worker = worker or worker_name()
    generation = EmbeddingGeneration.objects.filter(pk=generation_id).first()
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    finished = 0
    while generation is not None:
        if deadline is not None and time.monotonic() > deadline:
            if build_chunks_summary(generation_id).pending:
                build_runners_send(generation_id=generation_id, count=1)
            break
        chunk = build_chunk_claim(generation_id=generation_id, worker=worker)
        if chunk is not None:
            try:
                build_chunk_run(chunk=chunk, generation=generation, on_batch=on_progress)
                finished += 1
            except ChunkAbandoned as exc:
                logger.warning("%s: %s", worker, exc)
            except TRANSIENT_ERRORS:
                with contextlib.suppress(*TRANSIENT_ERRORS):  # it goes back without costing an attempt
                    BuildChunk.objects.filter(pk=chunk.pk, state=BuildChunk.State.RUNNING,
                                              attempts=chunk.attempts).update(
                        state=BuildChunk.State.PENDING, attempts=F("attempts") - 1, heartbeat_at=None
                    )  # fmt: skip
                raise
            except Exception as exc:
                BuildChunk.objects.filter(pk=chunk.pk, attempts=chunk.attempts).update(
                    state=BuildChunk.State.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:5000],
                    finished_at=timezone.now(),
                )  # fmt: skip
                raise
            finally:
                build_chunk_release(chunk)
            if on_progress is not None:
                on_progress()
            continue
        if not wait:
            break
        summary = build_chunks_summary(generation_id)
        if summary.failed:
            raise GenerationError(f"a chunk of generation {generation_id} failed: {summary.error}")
        if not EmbeddingGeneration.objects.filter(pk=generation_id, state=EmbeddingGeneration.State.BUILDING).exists():
            raise GenerationError(f"generation {generation_id} is no longer being built")
        if summary.finished:
            break
        if on_progress is not None:
            on_progress()
        time.sleep(CHUNK_WAIT_POLL_SECONDS)
    return finished


def build_runners_send(*, generation_id: int, count: int) -> None:
    """Send ``count`` chunk-runner tasks for the generation to the workers, once the current transaction commits."""
    from ..tasks import build_chunks_task

    def send() -> None:
        for _ in range(count):
            build_chunks_task.delay(generation_id)

    if count > 0:
        transaction.on_commit(send)


def build_chunks_requeue_stalled(*, stall_seconds: float | None = None, max_attempts: int | None = None) -> dict:
    """Running chunks of builds whose process died (no heartbeat for ``stall_seconds``, JOB_STALL_SECONDS, and their
    lock free): put back for any process to take, with a runner task each, or failed once taken ``max_attempts``
    (EMBEDDING_BUILD_CHUNK_ATTEMPTS) times. Returns ``{"requeued": [chunk ids], "failed": [chunk ids]}``."""
    stall_seconds = settings.JOB_STALL_SECONDS if stall_seconds is None else stall_seconds
    max_attempts = settings.EMBEDDING_BUILD_CHUNK_ATTEMPTS if max_attempts is None else max_attempts
    stalled = Q(
        state=BuildChunk.State.RUNNING,
        heartbeat_at__lt=timezone.now() - timedelta(seconds=stall_seconds),
        generation__state=EmbeddingGeneration.State.BUILDING,
    )
    outcome: dict[str, list[int]] = {"requeued": [], "failed": []}
    for chunk in BuildChunk.objects.filter(stalled).order_by("id")[:STALLED_CHUNKS_PER_RUN]:
        if not _chunk_try_lock(chunk.pk):
            continue  # its process is alive (its heartbeat thread is not?) or its connection not yet closed
        try:
            # The UPDATEs re-check that it is still stalled (a claim may have taken it meanwhile).
            if chunk.attempts >= max_attempts:
                error = (f"no heartbeat for {stall_seconds:g} s, taken {chunk.attempts} times: its workers keep "
                         "stopping (killed, out of memory?); given up (EMBEDDING_BUILD_CHUNK_ATTEMPTS)")  # fmt: skip
                if BuildChunk.objects.filter(stalled, pk=chunk.pk).update(
                    state=BuildChunk.State.FAILED, error=error, finished_at=timezone.now()
                ):
                    outcome["failed"].append(chunk.pk)
            elif BuildChunk.objects.filter(stalled, pk=chunk.pk).update(state=BuildChunk.State.PENDING):
                outcome["requeued"].append(chunk.pk)
                build_runners_send(generation_id=chunk.generation_id, count=1)
        finally:
            _chunk_unlock(chunk.pk)
    for verdict, ids in outcome.items():
        if ids:
            logger.warning("build chunks %s: %s (no heartbeat for %g s)", ids, verdict, stall_seconds)
    return outcome


def _chunk_try_lock(chunk_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CHUNK_LOCK_NAMESPACE, chunk_id])
        return cursor.fetchone()[0]


def _chunk_unlock(chunk_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CHUNK_LOCK_NAMESPACE, chunk_id])
    except DatabaseError:  # the connection broke: its lock went with it
        logger.warning("build chunk %s: lock not released (connection lost)", chunk_id)
