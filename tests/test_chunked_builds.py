"""Builds spread over workers: a generation build split into id-range chunks that worker processes share, take over
from a dead process, and hand to the periodic check; the single steps after them; progress summed over them all."""

import signal
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone

from catalog.models import Product
from catalog.services import catalog_import
from embeddings.models import BuildChunk, EmbeddingGeneration, ImageEmbedding, Job, ProductEmbedding
from embeddings.selectors import active_generation, build_chunks_summary, jobs_recent
from embeddings.services.build_chunks import (
    CHUNK_LOCK_NAMESPACE,
    build_chunk_claim,
    build_chunk_release,
    build_chunk_run,
    build_chunks_plan,
    build_chunks_requeue_stalled,
    build_chunks_work,
    worker_name,
)
from embeddings.services.generations import GenerationError, generation_create
from embeddings.services.operations import job_run, job_start

from .conftest import jpeg_bytes, spawn_worker
from .factories import ProductFactory
from .test_embeddings import advisory_locks_released, consumers_cancelled

# --- planning, claiming, the periodic check (in this process) --------------------------------------------------


def text_products(count: int) -> list[int]:
    """``count`` products without photos, ids ascending."""
    return [ProductFactory().pk for _ in range(count)]


def chunked_generation(products: int, *, chunk_size: int) -> EmbeddingGeneration:
    text_products(products)
    generation = generation_create()
    build_chunks_plan(generation=generation, chunk_size=chunk_size)
    return generation


@pytest.mark.django_db
def test_a_build_is_planned_as_id_ranges_that_hold_every_product_once():
    ids = text_products(27)
    Product.objects.filter(pk__in=ids[3:6]).delete()  # gaps in the ids do not make uneven chunks
    generation = generation_create()

    assert build_chunks_plan(generation=generation, chunk_size=10) == 3
    assert build_chunks_plan(generation=generation, chunk_size=5) == 3  # planned once: a resumed build keeps them

    chunks = list(generation.build_chunks.order_by("first_id"))
    assert [chunk.total for chunk in chunks] == [10, 10, 4]
    assert chunks[-1].end_id is None and all(chunk.state == BuildChunk.State.PENDING for chunk in chunks)
    for chunk in chunks:
        in_range = Product.objects.filter(id__gte=chunk.first_id)
        if chunk.end_id is not None:
            in_range = in_range.filter(id__lt=chunk.end_id)
        assert in_range.count() == chunk.total
    assert chunks[0].first_id == min(Product.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_a_foreground_build_runs_its_chunks_in_process_and_its_progress_sums_them(settings):
    settings.EMBEDDING_BUILD_CHUNK_SIZE = 10
    text_products(25)
    job = job_start(kind=Job.Kind.BUILD, run_async=False)
    seen = []

    outcome = job_run(job=job, callback=lambda done, total, message, detail: seen.append((done, total, detail)))

    job.refresh_from_db()
    assert outcome.startswith(f"generation {job.generation_id} active") and job.state == Job.State.DONE
    chunks = BuildChunk.objects.filter(generation_id=job.generation_id)
    assert chunks.count() == 3
    assert set(chunks.values_list("state", "attempts", "worker")) == {(BuildChunk.State.DONE, 1, worker_name())}
    assert ProductEmbedding.objects.filter(generation_id=job.generation_id).count() == 25
    # the terminal's bar: the products of all chunks, and which chunks are done
    assert seen[-1] == (25, 25, "chunks 3/3 done")
    assert [done for done, _total, _detail in seen] == sorted(done for done, _total, _detail in seen)
    assert (10, 25, "chunks 1/3 done") in seen
    # the operations page: the build job carries its chunks
    (listed,) = [listed for listed in jobs_recent() if listed.pk == job.pk]
    assert listed.chunks.done == listed.chunks.chunks == 3 and listed.chunks.worked == 1


@pytest.mark.django_db
def test_the_operations_page_shows_a_running_builds_chunks_and_workers():
    generation = chunked_generation(30, chunk_size=10)
    first, second, _third = generation.build_chunks.order_by("first_id")
    BuildChunk.objects.filter(pk=first.pk).update(state="done", products=10, worker="host-a:1")
    BuildChunk.objects.filter(pk=second.pk).update(state="running", products=4, worker="host-b:2")
    Job.objects.create(kind=Job.Kind.BUILD, state=Job.State.RUNNING, generation=generation, done=14, total=30,
                       started_at=timezone.now() - timedelta(seconds=10), message="embedding products")  # fmt: skip
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)

    row = client.get("/admin/operations/jobs/").json()["jobs"][0]
    page = client.get("/admin/operations/").content.decode()

    assert row["chunks"]["detail"] == "chunks 1/3 done, 1 running on 1 worker"
    assert row["chunks"]["products"] == 14 and row["chunks"]["workers"] == ["host-b:2"]
    assert row["percent"] == 46.7 and row["eta_seconds"] is not None
    assert '<div class="chunks">chunks 1/3 done, 1 running on 1 worker</div>' in page


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_a_chunk_whose_process_is_alive_and_takes_it_over_once_it_died():
    generation = chunked_generation(30, chunk_size=10)
    first, second, third = generation.build_chunks.order_by("first_id")
    # another process took the first chunk: it holds the chunk's lock (and has not stamped its heartbeat lately)
    elsewhere = connections.create_connection("default")
    with elsewhere.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [CHUNK_LOCK_NAMESPACE, first.pk])
    BuildChunk.objects.filter(pk=first.pk).update(state="running", attempts=1, worker="elsewhere:1",
                                                  heartbeat_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    try:
        # when this process claims chunks, it gets the pending ones, in order
        taken = []
        while (chunk := build_chunk_claim(generation_id=generation.pk, worker="here:2")) is not None:
            taken.append(chunk.pk)
            build_chunk_run(chunk=chunk, generation=generation)
            build_chunk_release(chunk)
        assert taken == [second.pk, third.pk]
        # and neither it nor the periodic check touches the one a live process holds, heartbeat or not
        assert build_chunks_requeue_stalled(stall_seconds=0) == {"requeued": [], "failed": []}
    finally:
        elsewhere.close()  # the process dies: its connection, and its lock, go
    advisory_locks_released()

    # then the next claim takes that chunk over, and resumes it
    taken_over = build_chunk_claim(generation_id=generation.pk, worker="here:2")
    assert taken_over.pk == first.pk and taken_over.attempts == 2 and taken_over.worker == "here:2"
    build_chunk_run(chunk=taken_over, generation=generation)
    build_chunk_release(taken_over)
    summary = build_chunks_summary(generation.pk)
    assert summary.done == 3 and summary.products == 30 and summary.finished
    assert build_chunk_claim(generation_id=generation.pk, worker="here:2") is None


@pytest.mark.django_db
def test_the_periodic_check_requeues_a_dead_chunk_once_and_fails_one_past_its_attempts(
    django_capture_on_commit_callbacks,
):
    generation = chunked_generation(30, chunk_size=10)
    dead, worn_out, alive = generation.build_chunks.order_by("first_id")
    long_ago, now = timezone.now() - timedelta(minutes=2), timezone.now()
    BuildChunk.objects.filter(pk=dead.pk).update(state="running", attempts=1, heartbeat_at=long_ago)
    BuildChunk.objects.filter(pk=worn_out.pk).update(state="running", attempts=3, heartbeat_at=long_ago)
    BuildChunk.objects.filter(pk=alive.pk).update(state="running", attempts=1, heartbeat_at=now)

    with django_capture_on_commit_callbacks() as sends:
        first = build_chunks_requeue_stalled(stall_seconds=60, max_attempts=3)
        second = build_chunks_requeue_stalled(stall_seconds=60, max_attempts=3)

    assert first == {"requeued": [dead.pk], "failed": [worn_out.pk]} and second == {"requeued": [], "failed": []}
    assert len(sends) == 1  # a chunk-runner task for the re-queued chunk, after commit
    states = dict(BuildChunk.objects.values_list("pk", "state"))
    assert states == {dead.pk: "pending", worn_out.pk: "failed", alive.pk: "running"}
    assert "EMBEDDING_BUILD_CHUNK_ATTEMPTS" in BuildChunk.objects.get(pk=worn_out.pk).error

    # and the build's job fails with the chunk's reason: its generation is failed too
    job = Job.objects.create(kind=Job.Kind.BUILD, generation=generation, options={"activate": True})
    with pytest.raises(GenerationError, match="given up"):
        job_run(job=job)
    job.refresh_from_db()
    generation.refresh_from_db()
    assert job.state == Job.State.FAILED and "given up" in job.error
    assert generation.state == EmbeddingGeneration.State.FAILED


@pytest.mark.django_db
def test_a_runner_past_its_time_budget_takes_no_new_chunk_and_sends_one_in_its_place(
    django_capture_on_commit_callbacks,
):
    generation = chunked_generation(20, chunk_size=10)

    with django_capture_on_commit_callbacks() as sends:
        finished = build_chunks_work(generation_id=generation.pk, budget_seconds=0)

    assert finished == 0 and len(sends) == 1
    assert set(generation.build_chunks.values_list("state", flat=True)) == {BuildChunk.State.PENDING}


# --- real workers ----------------------------------------------------------------------------------------------


def catalog_of_120_products(catalog_dir) -> None:
    """120 products with 2 photos each (committed: the workers read them)."""
    for n in range(120):
        photos = [catalog_dir.add_photo(f"c{n}-{i}.jpg", jpeg_bytes(color=(n, 3 * i, 90))) for i in range(2)]
        catalog_dir.add_product(sku=f"C{n:03d}", name=f"Chunked kit {n}", images=photos)
    catalog_import(path=catalog_dir.write())
    Product.objects.update(embeddings_stale=False)  # only the build writes to the generation in these tests


def assert_one_row_per_product_and_photo(generation: EmbeddingGeneration) -> None:
    rows = ProductEmbedding.objects.filter(generation=generation)
    assert rows.count() == rows.values("product").distinct().count() == Product.objects.count() == 120
    images = ImageEmbedding.objects.filter(generation=generation)
    assert images.count() == images.values("image").distinct().count() == 240


def wait_for(condition, *, seconds: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(poll)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_build(catalog_dir, test_database, media_root, session_worker):
    from embeddings.tasks import run_job_task

    # given a build job of 12 chunks (one product per transaction) and two worker processes on the reindex queue
    catalog_of_120_products(catalog_dir)
    generation = generation_create()
    job = Job.objects.create(kind=Job.Kind.BUILD, generation=generation, options={"activate": True, "runners": 1})
    env = {"EMBEDDING_BUILD_CHUNK_SIZE": "10", "EMBEDDING_BATCH_SIZE": "1"}
    with consumers_cancelled(session_worker, ["reindex"]):
        workers = [spawn_worker(database=test_database, media=media_root, name=f"builder{n}", env=env,
                                queues="reindex") for n in (1, 2)]  # fmt: skip
        try:
            # when the job goes to the workers: one runs it and sends a chunk runner, which the other takes
            run_job_task.delay(job.pk)
            wait_for(lambda: Job.objects.get(pk=job.pk).state in (Job.State.DONE, Job.State.FAILED), seconds=120,
                     what="the build was not finished")  # fmt: skip
        finally:
            for worker in workers:
                worker.stop()

    # then both processes embedded chunks, each chunk once, and the generation was built and activated once
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    chunks = BuildChunk.objects.filter(generation=generation)
    assert chunks.count() == 12 and set(chunks.values_list("state", "attempts")) == {(BuildChunk.State.DONE, 1)}
    by_worker = {}
    for worker, products in chunks.values_list("worker", "products"):
        by_worker[worker] = by_worker.get(worker, 0) + products
    assert len(by_worker) == 2 and all(by_worker.values()) and sum(by_worker.values()) == 120, by_worker
    assert_one_row_per_product_and_photo(generation)
    assert active_generation() == generation and job.done == job.total == 120


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_worker_is_killed_is_requeued_by_the_periodic_check_and_the_build_completes(
    catalog_dir, test_database, live_worker
):
    from embeddings.tasks import build_chunks_task

    # given a build of 3 chunks, the first one taken by a worker (one product per transaction)
    catalog_of_120_products(catalog_dir)
    generation = generation_create()
    build_chunks_plan(generation=generation, chunk_size=40)
    first = generation.build_chunks.order_by("first_id").first()
    doomed = spawn_worker(database=test_database, media=live_worker.media, name="doomed",
                          env={"EMBEDDING_BATCH_SIZE": "1"}, queues="doomed")  # fmt: skip
    build_chunks_task.apply_async(args=[generation.pk], queue="doomed")

    # when the worker is killed (SIGKILL, no clean-up) mid-chunk: as soon as its first product is committed (a fast
    # machine embeds the tiny test models' 40 products in well under the default poll of 0.1 s)
    try:
        wait_for(lambda: BuildChunk.objects.get(pk=first.pk).products >= 1, seconds=60, what="no chunk progress",
                 poll=0.001)  # fmt: skip
    finally:
        doomed.stop(signal.SIGKILL)
    first.refresh_from_db()
    assert first.state == BuildChunk.State.RUNNING and 0 < first.products < 40, "not killed mid-chunk"
    assert ProductEmbedding.objects.filter(generation=generation).count() == first.products
    advisory_locks_released()

    # and the periodic check runs (as it would once the heartbeat is JOB_STALL_SECONDS old)
    assert build_chunks_requeue_stalled(stall_seconds=0) == {"requeued": [first.pk], "failed": []}

    # then a live worker's chunk runner takes the chunk again, resumes it, and takes the others
    wait_for(lambda: build_chunks_summary(generation.pk).done == 3, seconds=90, what="the chunks were not done")
    first.refresh_from_db()
    assert first.attempts == 2 and first.products == 40 and first.worker != worker_name()

    # and the build job runs only the steps after the chunks (it finds none to take)
    job = job_start(kind=Job.Kind.BUILD, options={"activate": True}, run_async=False)
    Job.objects.filter(pk=job.pk).update(generation=generation)
    assert job_run(job=Job.objects.get(pk=job.pk)).startswith(f"generation {generation.pk} active")
    assert not BuildChunk.objects.filter(generation=generation, worker=worker_name()).exists()
    assert_one_row_per_product_and_photo(generation)
    assert active_generation() == generation
