"""Storefront latency and throughput at catalog scale, over HTTP on loopback, and HNSW recall.

    python bench/search_latency.py [--products 50000] [--requests 300] [--concurrency 2] [--only hybrid] [--no-recall]

Uses (or builds, a few minutes the first time) the deterministic scaled catalog of bench/scaled_catalog.py in the
database ``test_scaled_<N>``, reads the vector indexes that searches read into the buffer pool (``--warm-queries``;
with ``--read-tables`` also the tables they read row by row, once, as a server whose memory holds them has them),
starts gunicorn on a free port against it, and sends requests from a load generator in this process: hybrid text
search (cache misses only; and sorted by price over the whole match set, pages 1 and 3), photo search (upload +
encoding), similar items (product pages, served from the stored lists, which are computed first where missing; and
with a filter, computed from the vector indexes) and cache hits. For each workload: p50/p95/p99 latency with one
request at a time (the server's own timing from its ``Server-Timing`` header, and the round trip seen by the
client), then requests per second with ``--concurrency`` clients. The load generator shares the 2 cores with the
server, so throughput is a floor. Then (after the workloads: its exact scans evict the indexes from the buffer pool)
measures HNSW recall@10 of the indexes against an exact scan of the same vectors.

Then it prints the memory it took: the active generation's HNSW indexes (bytes, bytes per product: what
PostgreSQL's shared buffers must hold) and the web workers' resident memory. ``--json PATH`` writes every figure
(bench/growth_curve.py collects them over catalog sizes); ``--similar-lists requested`` computes the stored
similar-item lists of the products the workloads request only, instead of every product's (hours at 1,000,000).

Targets on 2 cores: hybrid p95 <= 30 ms, photo p95 <= 80 ms, similar p95 <= 10 ms, cache hit p95 <= 3 ms,
recall@10 >= 0.97.
"""

import argparse
import http.client
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from _setup import ROOT, django_setup

WORKLOADS = ("hybrid", "hybrid, by price", "photo", "similar", "similar, computed", "cache hit")
TARGETS = {"hybrid": 30.0, "photo": 80.0, "similar": 10.0, "cache hit": 3.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Load:
    """Keep-alive HTTP clients on loopback, one per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        if not hasattr(self.local, "conn"):
            self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        return self.local.conn

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = self.connection()
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            del self.local.conn  # a fresh connection next time
            raise
        client_ms = (time.perf_counter() - started) * 1000
        timing = response.getheader("Server-Timing") or ""  # "app;dur=12.34, ..." from the server's middleware
        server_ms = float(timing.split("app;dur=")[1].split(",")[0]) if "app;dur=" in timing else client_ms
        return response.status, response.getheader("X-Cache"), server_ms, client_ms, payload


def run(load: Load, jobs: list, concurrency: int, accept=lambda status, cache: status == 200):
    """Run request thunks with ``concurrency`` threads; returns (server ms, client ms, seconds, rejected)."""
    server, client, rejected = [], [], []
    lock = threading.Lock()
    queue = iter(jobs)

    def worker():
        while True:
            with lock:
                job = next(queue, None)
            if job is None:
                return
            status, cache, server_ms, client_ms, payload = job(load)
            with lock:
                if accept(status, cache):
                    server.append(server_ms)
                    client.append(client_ms)
                else:
                    rejected.append((status, cache, payload[:200]))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return server, client, time.perf_counter() - started, rejected


def report(name: str, server: list[float], client: list[float], seconds: float, rejected: list, rps: float) -> dict:
    row = {
        "requests": len(server),
        "server_p50": percentile(server, 50), "server_p95": percentile(server, 95),
        "server_p99": percentile(server, 99),
        "client_p50": percentile(client, 50), "client_p95": percentile(client, 95),
        "client_p99": percentile(client, 99),
        "rps": rps,
    }  # fmt: skip
    target = TARGETS.get(name)
    verdict = (
        ""
        if target is None
        else ("  ok" if row["server_p95"] <= target else "  OVER TARGET") + f" (p95 <= {target:g} ms)"
    )
    print(
        f"{name:<17} n={row['requests']:<5} server ms p50 {row['server_p50']:6.1f} p95 {row['server_p95']:6.1f} "
        f"p99 {row['server_p99']:6.1f} | client ms p50 {row['client_p50']:6.1f} p95 {row['client_p95']:6.1f} "
        f"p99 {row['client_p99']:6.1f} | {row['rps']:6.1f} req/s{verdict}"
        + (f"  [{len(rejected)} not counted, e.g. {rejected[0]}]" if rejected else "")
    )  # fmt: skip
    return row


def text_queries(source: Path, count: int, seed: int) -> list[str]:
    """Distinct shopper-like queries from the catalog's vocabulary (colour, material, kind), deterministic."""
    products = [json.loads(line) for line in (source / "products.jsonl").read_text().splitlines() if line.strip()]
    colours, materials, kinds = set(), set(), set()
    for product in products:
        attributes = product.get("attributes", {})
        for key, bucket in (("color", colours), ("material", materials)):
            value = attributes.get(key)
            bucket.update(value if isinstance(value, list) else [value] if value else [])
        for path in product.get("categories", []):
            kinds.add(path.rsplit("/", 1)[-1].lower())
    rng = random.Random(seed)
    combos = [f"{c.lower()} {k}" for c, k in itertools.product(sorted(colours), sorted(kinds))]
    combos += [f"{m.lower()} {k}" for m, k in itertools.product(sorted(materials), sorted(kinds))]
    rng.shuffle(combos)
    return combos[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=300, help="requests per workload")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-recall", action="store_true", help="skip the HNSW recall measurement")
    parser.add_argument("--warm-queries", type=int, default=300,
                        help="nearest-neighbour queries per vector index before the workloads (0: none)")  # fmt: skip
    parser.add_argument("--read-tables", action="store_true",
                        help="read the photo, product vector and document tables before the workloads")  # fmt: skip
    parser.add_argument("--only", action="append", choices=WORKLOADS, metavar="WORKLOAD",
                        help=f"run only this workload (repeatable): {', '.join(WORKLOADS)}")  # fmt: skip
    parser.add_argument("--similar-lists", choices=("all", "requested"), default="all",
                        help="stored similar-item lists: every product's, or those the workloads request")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures (workloads, recall, memory) here")
    args = parser.parse_args()
    django_setup()
    from django.db import connection
    from scaled_catalog import scaled_database

    from catalog.models import Product

    with scaled_database(args.products, seed=args.seed, source=args.source) as generation:
        database = connection.settings_dict["NAME"]
        skus = list(Product.objects.values_list("sku", flat=True))
        print(f"catalog: {len(skus)} products in {database}, generation {generation.pk}", flush=True)
        if not args.only or {"similar", "similar, computed"} & set(args.only):
            # the products the similar workloads request: ``picked`` below draws them with the same seed
            requested = None
            if args.similar_lists == "requested":
                draw = random.Random(args.seed)
                requested = {draw.choice(skus) for _ in range(args.requests)} | set(skus[:10])
            similar_lists_ensure(generation, skus=requested)
        figures: dict = {"products": args.products, "database": database, "cores": os.cpu_count(),
                         "storage": storage_report(generation)}  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            figures["database_bytes"] = cursor.fetchone()[0]
        warmed = indexes_warm(generation, queries=args.warm_queries, seed=args.seed)
        print(f"vector indexes read into the buffer pool: {warmed:.1f} s", flush=True)
        if args.read_tables:
            figures["tables_read"] = tables_read()
            print(f"tables read once: {figures['tables_read']}", flush=True)
    port = free_port()
    env = {**os.environ, "DATABASE_NAME": database, "DJANGO_ENV": "production", "DEBUG": "0",
           "SECRET_KEY": uuid.uuid4().hex * 2, "SERVE_MEDIA": "0", "SEARCH_ANON_RATE": "1000000/min",
           "CACHE_KEY_PREFIX": f"bench-latency-{os.getpid()}", "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        # as in production (make demo, the Dockerfile): each worker warms up (models, spelling vocabulary, term
        # statistics: over a minute at 250,000 products) before it takes a request (shop_search/readiness.py)
        [sys.executable, "-m", "gunicorn", "-c", "shop_search/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "1", "--log-level", "warning",
         # a worker's first request loads the models: on a loaded machine that can pass gunicorn's default 30 s,
         # and a worker killed then would load them again during the measured requests
         "--timeout", "300"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        load = Load(port)
        deadline = time.monotonic() + 300  # the workers' warm-up (gunicorn.conf.py waits up to 120 s for it)
        while True:
            try:
                if load.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        photos = [args.source / json.loads(line)["image"] for line in
                  (args.source / "eval" / "photo_queries.jsonl").read_text().splitlines() if line.strip()]  # fmt: skip
        rng = random.Random(args.seed)
        queries = text_queries(args.source, args.requests + 40, args.seed)

        def text(q, **params):
            path = "/api/v1/search?" + urlencode({"q": q, **params})
            return lambda load: load.request("GET", path)

        def photo(path: Path):
            boundary = "benchboundary"
            head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"q.jpg\"\r\n"
                    "Content-Type: image/jpeg\r\n\r\n")  # fmt: skip
            body = head.encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            return lambda load: load.request("POST", "/api/v1/search/image", body, headers)

        def similar(sku: str, query: str = ""):
            return lambda load: load.request("GET", f"/api/v1/products/{sku}/similar?k=10{query}")

        # warm-up: every worker loads the encoders and opens its database connection
        run(load, [text(q) for q in queries[:20]] + [photo(p) for p in photos[:6]] + [similar(s) for s in skus[:10]],
            args.concurrency)  # fmt: skip
        print(f"workloads: {args.requests} requests each; latency one at a time, req/s with {args.concurrency} clients",
              flush=True)  # fmt: skip
        results = {}
        misses = [text(q) for q in queries[40 : 40 + args.requests]]
        extra = [text(q, page=2) for q in queries[40 : 40 + args.requests]]  # other keys, also misses
        shots = [photo(photos[i % len(photos)]) for i in range(args.requests)]
        picked = [rng.choice(skus) for _ in range(args.requests)]
        picks = [similar(sku) for sku in picked]  # product pages: the stored lists
        live = [similar(sku, "&in_stock=true") for sku in picked]  # a filter: computed from the indexes
        hot = queries[:20]
        hits = [text(hot[i % len(hot)]) for i in range(args.requests)]
        workloads = [
            ("hybrid", misses, extra, lambda s, c: s == 200 and c == "MISS"),
            # the whole match set in price order (search.sorting), page 1 and page 3
            (
                "hybrid, by price",
                [text(q, sort="price_asc") for q in queries[40 : 40 + args.requests]],
                [text(q, sort="price_desc", page=3) for q in queries[40 : 40 + args.requests]],
                lambda s, c: s == 200 and c == "MISS",
            ),  # fmt: skip
            ("photo", shots, shots, lambda s, c: s == 200),
            ("similar", picks, picks, lambda s, c: s == 200),
            ("similar, computed", live, live, lambda s, c: s == 200),
            ("cache hit", hits, hits, lambda s, c: s == 200 and c == "HIT"),
        ]
        assert [w[0] for w in workloads] == list(WORKLOADS)
        for name, latency_jobs, throughput_jobs, accept in workloads:
            if args.only and name not in args.only:
                continue
            server_ms, client_ms, _seconds, rejected = run(load, latency_jobs, 1, accept=accept)
            done, _, seconds, _ = run(load, throughput_jobs, args.concurrency, accept=lambda s, c: s == 200)
            results[name] = report(name, server_ms, client_ms, seconds, rejected, rps=len(done) / seconds)
        figures["workloads"] = results
        figures["memory"] = memory_report(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if not args.no_recall:  # after the workloads: its exact scans would push the indexes out of the buffer pool
        with scaled_database(args.products, seed=args.seed, source=args.source) as generation:
            figures["recall"] = hnsw_recall(generation, samples=200, seed=args.seed)
            print(f"HNSW recall@10 against an exact scan: {figures['recall']}")
    if args.json:
        from scaled_catalog import build_seconds

        figures["build_seconds"] = build_seconds(args.products)
        args.json.write_text(json.dumps(figures, indent=1))


def storage_report(generation) -> dict:
    """Print and return the bytes of the generation's vectors and HNSW indexes (bench/vector_storage.py)."""
    from vector_storage import storage_report as report_storage

    return report_storage(generation)


def memory_report(server_pid: int) -> dict:
    """The resident memory of the web workers (gunicorn's children) and of the PostgreSQL server's processes, with
    the size of its buffer pool. Printed and returned (bytes)."""
    import psutil
    from django.db import connection

    workers = psutil.Process(server_pid).children()
    worker_rss = [worker.memory_info().rss for worker in workers]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_bytes(current_setting('shared_buffers')), pg_backend_pid()")
        shared_buffers, backend = cursor.fetchone()
    postmaster = psutil.Process(backend).parent()
    # unique set size: a PostgreSQL process's own memory, without the shared buffers every process maps
    postgres_uss = sum(p.memory_full_info().uss for p in [postmaster, *postmaster.children()])
    memory = {"web_worker_rss": worker_rss, "postgres_uss": postgres_uss, "shared_buffers": shared_buffers}
    print(f"memory: web workers RSS {', '.join(f'{rss / 2**20:.0f} MB' for rss in worker_rss)}; PostgreSQL "
          f"shared_buffers {shared_buffers / 2**20:.0f} MB, its processes' own memory (USS) "
          f"{postgres_uss / 2**20:.0f} MB")  # fmt: skip
    return memory


def similar_lists_ensure(generation, processes: int = 2, skus: set[str] | None = None) -> None:
    """Stored similar-item lists for every product (as the task after an activation makes them), computed by
    ``processes`` forked processes over product id ranges; kept in the database, so only the first run pays (a
    few minutes at 50,000 products). With ``skus``, only those products' lists (here, one by one)."""
    if skus is not None:
        from catalog.models import Product
        from recommendations.services import similar_lists_build

        started = time.perf_counter()
        count = sum(similar_lists_build(generation=generation, only_missing=True, id_range=(pk, pk))
                    for pk in Product.objects.filter(sku__in=skus).values_list("pk", flat=True))  # fmt: skip
        print(f"similar-item lists computed: {count} (of the requested products) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        return
    import multiprocessing

    from django.db import connection
    from tqdm import tqdm

    from embeddings.models import ProductEmbedding
    from recommendations.models import SimilarList

    embedded = ProductEmbedding.objects.filter(generation=generation)
    stored = SimilarList.objects.filter(generation=generation)
    before = stored.count()
    missing = embedded.count() - before
    if missing <= 0:
        return
    ids = sorted(embedded.values_list("product_id", flat=True))
    bounds = [ids[len(ids) * i // processes] for i in range(processes)] + [ids[-1] + 1]
    ranges = [(bounds[i], bounds[i + 1] - 1) for i in range(processes)]
    started = time.perf_counter()
    connection.close()  # not shared with the forked processes: each opens its own
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        jobs = [pool.apply_async(_similar_lists_part, (generation.pk, part)) for part in ranges]
        with tqdm(total=missing, desc="similar-item lists", unit="product") as bar:
            while not all(job.ready() for job in jobs):
                time.sleep(1)
                bar.update(stored.count() - before - bar.n)
        count = sum(job.get() for job in jobs)
    print(f"similar-item lists computed: {count} in {time.perf_counter() - started:.0f} s", flush=True)
    # Vacuum and analyse the fresh rows now: otherwise autovacuum does it during the first workloads (photo p95
    # 88 ms in the run that built the lists, 56-61 ms without it), and the figures would measure the bulk write.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {SimilarList._meta.db_table}")


# The vector indexes that text and photo searches read (search.candidates), per photo layout; the pooled photo
# vector's (4.1 GB at 1,000,000 products) is read by photo search only with the ``product`` layout, and otherwise by
# similar items computed on a request, which the workloads serve from the stored lists.
SEARCH_INDEXES = ("text_vector", "aligned_image", "fused")
PHOTO_SEARCH_INDEX = {"product": "image_vector", "photo": "photo", "binary": "photo_code"}
# The tables searches read row by row: the candidates' vectors (photo rows, product rows without their TOAST) and
# documents.
SEARCH_TABLES = ("embeddings_imageembedding", "embeddings_productembedding", "search_searchdocument")


def indexes_warm(generation, *, queries: int, seed: int) -> float:
    """Read the vector indexes that searches read into the buffer pool the way serving does: ``queries``
    nearest-neighbour searches per index with random products' and photos' own vectors (never the workloads'
    queries); returns the seconds taken. A server that has been answering searches holds these pages. Right after
    other work on the same PostgreSQL (a test suite, a benchmark of another database) it may not, and a workload's
    first pass would measure reading them back: photo p95 88 and 103 ms in two such runs, 42-56 ms with the indexes
    in memory. Indexes no measured search reads are left out: they would only take the buffer pool's room."""
    from django.db import connection

    from embeddings.indexes import COLUMNS, index_name, indexed_columns, photo_code_query, vector_expression

    started = time.perf_counter()
    read = {*SEARCH_INDEXES, PHOTO_SEARCH_INDEX[generation.photo_index]}
    with connection.cursor() as cursor:  # (a catalog whose build was stopped may lack some)
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", [index_name(generation.pk, "%")])
        built = {row[0] for row in cursor.fetchall()}
    wanted = [name for name in indexed_columns(generation) if name in read]
    for name in [name for name in wanted if index_name(generation.pk, name) in built] if queries > 0 else ():
        column = COLUMNS[name]
        expression, dim = vector_expression(generation, name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            source = "vector" if column.code else column.column  # a code column's queries are photo vectors
            # The rows drawn by id first: a vector is read (and cast to text) for the drawn rows only, not for every
            # row the sort draws from (1,284,584 TOASTed photo vectors at 1,000,000 products: minutes per column).
            sample = (f"SELECT {source}::text FROM {column.table} WHERE id IN (SELECT id FROM {column.table} "
                      f"WHERE generation_id = %s AND {source} IS NOT NULL ORDER BY random() LIMIT %s)")  # fmt: skip
            cursor.execute(sample, [generation.pk, queries])
            # A binary code's index is read by Hamming distance to the query's code.
            distance = f"<~> {photo_code_query(generation)}" if column.code else f"<=> %s::halfvec({dim})"
            for (vector,) in cursor.fetchall():
                cursor.execute(f"SELECT 1 FROM {column.table} WHERE generation_id = %s ORDER BY {expression} "
                               f"{distance} LIMIT 30", [generation.pk, vector])  # fmt: skip
                cursor.fetchall()
    return time.perf_counter() - started


def tables_read() -> dict[str, str]:
    """Read each of ``SEARCH_TABLES`` once, whole (a sequential scan: its pages pass through the operating system's
    page cache, which keeps them while memory allows), as a server that has answered searches for a while holds the
    rows they read; returns each table's size and the seconds it took."""
    from django.db import connection

    read = {}
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
        for table in SEARCH_TABLES:
            started = time.perf_counter()
            cursor.execute(f"SELECT count(*) FROM {table}")
            cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s))", [table])
            read[table] = f"{cursor.fetchone()[0]} in {time.perf_counter() - started:.1f} s"
        cursor.execute("RESET max_parallel_workers_per_gather")
    return read


def _similar_lists_part(generation_id: int, id_range: tuple[int, int]) -> int:
    from embeddings.models import EmbeddingGeneration
    from recommendations.services import similar_lists_build

    generation = EmbeddingGeneration.objects.get(pk=generation_id)
    return similar_lists_build(generation=generation, only_missing=True, id_range=id_range)


def hnsw_recall(generation, *, samples: int, seed: int) -> dict[str, float]:
    """Recall@10 of the generation's HNSW indexes against exact scans, the way search reads them: the session's
    ef_search and iterative scan settings, as many candidates as a search reads (``SEARCH_VECTOR_CANDIDATES``, three
    times that of photos) re-sorted by distance, the best 10 kept. Query vectors are random products' (or photos')
    own vectors; the exact top 10 of all of them come from one streamed pass over the vectors (float32, in numpy).
    "photo search": the products photo search ranks first by their best photo, through the generation's photo
    index layout (with one pooled vector per product: the candidates re-scored by their photos), against an exact
    scan over every photo (bench/vector_storage.py)."""
    from django.conf import settings
    from django.db import connection
    from vector_storage import exact_top, photo_search_recall, sample_vectors

    from embeddings.indexes import photo_index_per_photo, vector_expression
    from search.candidates import PHOTOS_PER_PRODUCT_FETCH

    result = {}
    columns = [("fused", "embeddings_productembedding", "product_id", "fused"),
               ("text_vector", "embeddings_productembedding", "product_id", "text_vector"),
               ("image_vector", "embeddings_productembedding", "product_id", "image_vector")]  # fmt: skip
    if photo_index_per_photo(generation):
        columns.append(("photo", "embeddings_imageembedding", "image_id", "vector"))
    for column, table, key, source in columns:
        expression, dim = vector_expression(generation, column)
        picks = sample_vectors(generation, table, source, samples, seed)
        truth = exact_top(generation, table, key, source, picks, 10)
        limit = settings.SEARCH_VECTOR_CANDIDATES * (PHOTOS_PER_PRODUCT_FETCH if column == "photo" else 1)
        sql = (f"SELECT {key}, {expression} <=> %s::halfvec({dim}) FROM {table} WHERE generation_id = %s "
               f"ORDER BY {expression} <=> %s::halfvec({dim}) LIMIT %s")  # fmt: skip
        found = 0
        for vector, exact in zip(picks, truth, strict=True):
            literal = "[" + ",".join(f"{x:.6g}" for x in vector) + "]"
            with connection.cursor() as cursor:
                cursor.execute(sql, [literal, generation.pk, literal, limit])
                approximate = {row[0] for row in sorted(cursor.fetchall(), key=lambda row: row[1])[:10]}
            found += len(approximate & set(exact))
        result[column] = round(found / (10 * len(picks)), 4)
    queries = {"photos": sample_vectors(generation, "embeddings_imageembedding", "vector", samples, seed)}
    rescore = [settings.SEARCH_PHOTO_RESCORE_PRODUCTS]
    (row,) = [v for v in photo_search_recall(generation, queries, rescore)["photos"].values() if isinstance(v, dict)]
    result["photo search"] = row["recall@10"]
    return result


if __name__ == "__main__":
    main()
