"""Generation build throughput with 1 and 2 worker processes sharing one build (chunked builds).

    REDIS_URL=redis://127.0.0.1:6379/N python bench/build_workers.py [--products 3000] [--chunk 200] \
        [--configs 1x1,2x1,1x2] [--repeat 1] [--logs DIR]

A text-only catalog from ``bench/text_catalog.py`` is imported into a throw-away database (``helpe_build_workers``),
then each configuration builds a new generation of it with the real text encoder (all-MiniLM-L6-v2): ``PxT`` starts
P Celery worker processes (``--concurrency 1`` each, on the ``reindex`` queue) with EMBEDDING_TORCH_THREADS=T, sends
the build job (``reindex.run_job``) with P - 1 chunk runners, and waits for the job. A warm-up build comes first
(printed apart, not compared): it fills the page cache and is activated, so every later worker loads its models
(the active generation's) before it takes a task, as production workers do.

Printed per configuration: products per second over the chunk phase (first chunk taken to last chunk done, all
processes together), the whole job's wall time (planning, chunks, HNSW indexes, calibration), and how the chunks
were shared. The workers use the Redis database of REDIS_URL: give the benchmark one no other worker listens on.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, django_setup

DATABASE = "helpe_build_workers"


def spawn_workers(
    count: int, *, threads: int, chunk: int, database: str, logs: Path | None = None
) -> list[subprocess.Popen]:
    """``count`` worker processes (one Celery worker each, concurrency 1) on the ``reindex`` queue; returns once the
    pool process of each has warmed up (loaded the active generation's models) and run a task."""
    from shop_search.celery import app

    processes, queues = [], []
    for n in range(count):
        queue = f"bench-build-{n}-{os.getpid()}"  # the worker's own queue, for the warm-up check
        env = {**os.environ, "DATABASE_NAME": database, "EMBEDDING_TORCH_THREADS": str(threads),
               "EMBEDDING_BUILD_CHUNK_SIZE": str(chunk)}  # fmt: skip
        output = open(logs / f"{queue}.log", "ab") if logs else subprocess.DEVNULL  # noqa: SIM115
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shop_search", "worker", "-Q", f"reindex,{queue}",
             "--concurrency", "1", "--pool", "prefork", "-n", f"{queue}@{socket.gethostname()}",
             "-l", "info" if logs else "warning", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, start_new_session=True, stdout=output, stderr=subprocess.STDOUT,
        ))  # fmt: skip
        queues.append(queue)
    try:
        # A task runs only once the pool process has warmed up: celery's own no-op (results expire in Redis).
        checks = [app.send_task("celery.backend_cleanup", queue=queue) for queue in queues]
        for check in checks:
            check.get(timeout=300)
    except Exception:
        stop_workers(processes)
        raise
    return processes


def stop_workers(processes: list[subprocess.Popen]) -> None:
    """Stop the workers, and drop what they left queued (the quality report an activation sends, say)."""
    from shop_search.celery import app

    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with app.connection_for_write() as broker:
        for queue in ("default", "embeddings", "reindex"):
            broker.default_channel.queue_purge(queue)


def build_with_workers(*, processes: int, threads: int, chunk: int, activate: bool, logs: Path | None) -> dict:
    from django.db.models import Max, Min, Sum

    from embeddings.models import BuildChunk, Job
    from embeddings.services.generations import generation_create
    from embeddings.tasks import run_job_task

    generation = generation_create()
    job = Job.objects.create(kind=Job.Kind.BUILD, generation=generation,
                             options={"activate": activate, "runners": processes - 1})  # fmt: skip
    workers = spawn_workers(processes, threads=threads, chunk=chunk, database=DATABASE, logs=logs)
    try:
        started = time.monotonic()
        run_job_task.delay(job.pk)
        while (job := Job.objects.get(pk=job.pk)).state not in (Job.State.DONE, Job.State.FAILED):
            time.sleep(0.2)
        wall = time.monotonic() - started
    finally:
        stop_workers(workers)
    if job.state != Job.State.DONE:
        raise SystemExit(f"the build failed: {job.error}")
    chunks = BuildChunk.objects.filter(generation=generation)
    span = chunks.aggregate(first=Min("started_at"), last=Max("finished_at"), products=Sum("products"))
    seconds = (span["last"] - span["first"]).total_seconds()
    per_worker = {}
    for worker, products in chunks.values_list("worker", "products"):
        per_worker[worker] = per_worker.get(worker, 0) + products
    return {
        "products": span["products"], "chunks": chunks.count(), "chunk_seconds": seconds,
        "rate": span["products"] / seconds, "wall": wall, "workers": len(per_worker),
        "shares": sorted(per_worker.values(), reverse=True),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--chunk", type=int, default=200, help="EMBEDDING_BUILD_CHUNK_SIZE of the runs")
    parser.add_argument("--configs", default="1x1,2x1,1x2", help="worker processes x torch threads, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (interleaved)")
    parser.add_argument("--logs", type=Path, help="write each worker's log (level info) into this folder")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    django_setup()

    from django.conf import settings
    from django.db import connection

    from catalog.models import Product
    from catalog.services import catalog_import

    configs = [tuple(int(part) for part in config.split("x")) for config in args.configs.split(",")]
    connection.settings_dict["TEST"]["NAME"] = DATABASE
    original = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as folder:
            subprocess.run([sys.executable, str(ROOT / "bench" / "text_catalog.py"), folder, "--products",
                            str(args.products)], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            started = time.monotonic()
            catalog_import(path=Path(folder))
            imported = time.monotonic() - started
        Product.objects.update(embeddings_stale=False)  # only the builds write vectors here
        print(f"{Product.objects.count()} text-only products (bench/text_catalog.py), imported in {imported:.0f} s; "
              f"text encoder {settings.EMBEDDING_TEXT_MODEL}; batch {settings.EMBEDDING_BATCH_SIZE} products, "
              f"chunk {args.chunk} products; {os.cpu_count()} cores")  # fmt: skip
        warm = build_with_workers(processes=1, threads=1, chunk=args.chunk, activate=True, logs=args.logs)
        print(f"warm-up build (1 process, 1 thread, models loaded cold): {warm['rate']:.1f} products/s")
        print(f"{'processes x threads':>20} {'products/s':>11} {'chunk phase s':>14} {'job wall s':>11} "
              f"{'chunks':>7}  products per process")  # fmt: skip
        for _ in range(args.repeat):
            for processes, threads in configs:
                run = build_with_workers(
                    processes=processes, threads=threads, chunk=args.chunk, activate=False, logs=args.logs
                )
                print(f"{f'{processes} x {threads}':>20} {run['rate']:>11.1f} {run['chunk_seconds']:>14.1f} "
                      f"{run['wall']:>11.1f} {run['chunks']:>7}  {run['shares']}", flush=True)  # fmt: skip
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)


if __name__ == "__main__":
    main()
