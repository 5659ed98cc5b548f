"""Side by side, in one run, on the same catalog, vectors and queries: this project against LanceDB, FAISS and BM25.

    pip install -r requirements-bench.txt
    python bench/compare_engines.py [--products 50000] [--repeats 2]

Two phases. 1. Speed at scale: the deterministic scaled catalog of bench/scaled_catalog.py (used, or built in a
few minutes the first time): the luma-dev products plus synthetic variations of them. Every engine indexes it and
answers the luma-dev text queries (eval/text_queries.jsonl): latency, QPS, and NDCG@10 against luma-dev's labels,
where the synthetic near-copies of relevant products count as not relevant (so that column mostly says which
engine puts the originals above their copies). 2. Quality: a scratch database with luma-dev alone, embedded with
the same alignment head, every engine indexed again: NDCG@10 where the labels are complete (comparable with the
naive references of the dataset's README). Engines:

- ours, production hybrid: ``search_products`` as the storefront calls it (candidates from full text, text vector
  and joint-space vectors in one statement, fusion, then the matching set's rows and facets);
- ours, ranking only: the same candidates and fusion without rows and facets (``evaluation.modes``);
- ours, pgvector HNSW on one vector column (text vector; fused joint vector), the project's ``nearest_products``;
- LanceDB (embedded) hybrid: its full-text index plus vector search (exact scan) on the same text vectors, fused by
  its default reciprocal rank fusion; and LanceDB full text alone;
- FAISS HNSW (M=32, efConstruction=200, efSearch ``HNSW_EF_SEARCH``, as the pgvector indexes) and exact search
  (L2 on the unit vectors: the cosine order) on the same text and fused vectors: the speed and recall ceiling of
  pure vector search (recall@10 of FAISS's and of our HNSW against the exact top 10 is printed);
- bm25s (Lucene BM25, English stop words, Snowball stemmer) on the same product texts: the keyword reference.

Product texts for the keyword engines are name, categories, brand, attribute values and description. Query
vectors are encoded once, before timing, for every engine (ours included: its query-vector cache is warm), so
latency is retrieval, not encoding. Each engine answers every query once untimed, then ``--repeats`` timed
passes, one query at a time in this process: p50/p95 of those, and queries per second = queries / seconds.
Ratios are ours (production hybrid, or pgvector on the same column for the vector engines) over theirs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _setup import ROOT, django_setup, scratch_database

K = 10
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 200  # efSearch: the project's own HNSW_EF_SEARCH setting


@dataclass
class Row:
    engine: str
    versus: str  # the engine of ours this one is compared with
    ndcg_luma: float = 0.0  # NDCG@10 with the luma-dev products alone
    ndcg_scaled: float = 0.0  # NDCG@10 in the scaled catalog (synthetic products count as not relevant)
    p50: float = 0.0
    p95: float = 0.0
    qps: float = 0.0


@dataclass
class Engine:
    name: str
    search: Callable[[int], list[str]]  # query number -> skus, best first
    versus: str = ""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def quality(engine: Engine, queries) -> float:
    """Mean NDCG@10 (the answers also warm every cache before timing)."""
    from evaluation.metrics import ndcg_at

    return statistics.fmean(ndcg_at(engine.search(i), query.relevant) for i, query in enumerate(queries))


def timing(engine: Engine, queries, repeats: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, queries per second) over ``repeats`` passes, one query at a time."""
    timings = []
    started = time.perf_counter()
    for _ in range(repeats):
        for i in range(len(queries)):
            t = time.perf_counter()
            engine.search(i)
            timings.append((time.perf_counter() - t) * 1000)
    seconds = time.perf_counter() - started
    return percentile(timings, 50), percentile(timings, 95), len(timings) / seconds


def recall(found: list[set], truth: list[set]) -> float:
    return statistics.fmean(len(a & b) / max(len(b), 1) for a, b in zip(found, truth, strict=True))


def product_texts() -> tuple[list[int], list[str], list[str]]:
    """(ids, skus, texts) of every product, texts as the keyword engines index them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT p.id, p.sku, concat_ws(' ', p.name,
                (SELECT string_agg(replace(c.path, '/', ' '), ' ') FROM catalog_productcategory pc
                 JOIN catalog_category c ON c.id = pc.category_id WHERE pc.product_id = p.id),
                p.brand,
                (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)
                 WHERE lower(value) NOT IN ('yes', 'no', 'true', 'false')),
                p.description)
            FROM catalog_product p ORDER BY p.id""")
        rows = cursor.fetchall()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def product_vectors(generation, ids: list[int], column: str) -> np.ndarray:
    """One row per product of ``ids`` (zeros where a product has none), read in binary."""
    from django.db import connection
    from pgvector.psycopg.vector import register_vector_info
    from psycopg.types import TypeInfo

    connection.ensure_connection()
    position = {pid: i for i, pid in enumerate(ids)}
    with connection.connection.cursor() as cursor:
        register_vector_info(cursor, TypeInfo.fetch(connection.connection, "vector"))
        cursor.execute(f"SELECT product_id, {column} FROM embeddings_productembedding WHERE generation_id = %s",
                       [generation.pk])  # fmt: skip
        rows = [(pid, vector.to_numpy()) for pid, vector in cursor.fetchall()]
    matrix = np.zeros((len(ids), len(rows[0][1])), dtype=np.float32)
    for pid, vector in rows:
        matrix[position[pid]] = vector
    return matrix


def forget_process_caches() -> None:
    """Heads, query vectors, the active generation and the spelling vocabulary are cached per process by id: a
    second database reuses the ids."""
    from embeddings.queries import query_text_vectors
    from embeddings.services.embedding import load_head
    from search.selectors import process_caches_clear
    from search.spelling import vocabulary_invalidate

    load_head.cache_clear()
    query_text_vectors.cache_clear()
    process_caches_clear()
    vocabulary_invalidate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=2, help="timed passes over the queries")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    django_setup()
    from scaled_catalog import scaled_database

    from catalog.services import catalog_import
    from embeddings.models import Job, TrainedHead
    from embeddings.selectors import active_generation
    from embeddings.services.operations import job_run, job_start
    from evaluation.evalfiles import read_eval_file

    queries = read_eval_file(args.source / "eval" / "text_queries.jsonl", catalog_dir=args.source)
    rows: dict[str, Row] = {}
    print(f"1. speed at scale: the scaled catalog of {args.products} products, {len(queries)} luma-dev text queries",
          flush=True)  # fmt: skip
    with scaled_database(args.products, seed=args.seed, source=args.source) as generation, \
            tempfile.TemporaryDirectory(prefix="compare-engines-") as tmp:  # fmt: skip
        head = {field: getattr(generation.head, field) for field in ("encoder_spec", "config", "report", "joint_dim")}
        head["weights"] = bytes(generation.head.weights)
        for engine in engines(generation, queries, Path(tmp)):
            row = rows[engine.name] = Row(engine.name, engine.versus, ndcg_scaled=quality(engine, queries))
            row.p50, row.p95, row.qps = timing(engine, queries, args.repeats)
            print(f"  {engine.name:<44} p50 {row.p50:7.2f} ms  p95 {row.p95:7.2f} ms  {row.qps:8.1f} q/s  "
                  f"NDCG@10 {row.ndcg_scaled:.3f}", flush=True)  # fmt: skip
    forget_process_caches()
    print(f"2. quality on luma-dev alone, with the same alignment head ({time.perf_counter() - started:.0f} s so far)",
          flush=True)  # fmt: skip
    with scratch_database("compare_engines"), tempfile.TemporaryDirectory(prefix="compare-engines-") as tmp:
        catalog_import(path=args.source)
        TrainedHead.objects.create(**head)  # the newest head for these encoders: the build takes it
        job_run(job=job_start(kind=Job.Kind.BUILD, options={}, run_async=False))
        for engine in engines(active_generation(), queries, Path(tmp)):
            rows[engine.name].ndcg_luma = quality(engine, queries)
            print(f"  {engine.name:<44} NDCG@10 {rows[engine.name].ndcg_luma:.3f}", flush=True)
    report(list(rows.values()), args, time.perf_counter() - started)


def engines(generation, queries, tmp: Path) -> list[Engine]:
    """Every engine, indexed on the current database's catalog and ``generation``'s vectors."""
    import bm25s
    import faiss
    import lancedb
    import pyarrow as pa
    import Stemmer
    from django.conf import settings
    from lancedb.index import FTS

    from embeddings.selectors import nearest_products
    from embeddings.services.embedding import generation_models
    from evaluation.modes import hybrid_ids, mode_fusion, prepare
    from search.selectors import search_products
    from search.types import SearchQuery

    ids, skus, texts = product_texts()
    sku_of = dict(zip(ids, skus, strict=True))
    encoders, head = generation_models(generation)
    text_q = encoders.text.encode_texts([q.text for q in queries])
    joint_q = head.project(text_q, "text")
    hybrid = mode_fusion("hybrid", generation)
    found: list[Engine] = [
        Engine("ours: production hybrid", lambda i: [p["sku"] for p in search_products(
            SearchQuery(text=queries[i].text, page_size=K), generation).products]),
        Engine("ours: hybrid, ranking only", lambda i: [sku_of[pid] for pid in hybrid_ids(
            prepare(generation, queries[i]), generation, hybrid)[:K]]),
    ]  # fmt: skip
    for column, vectors in (("text_vector", text_q), ("fused", joint_q)):
        found.append(Engine(f"ours: pgvector HNSW, {column}", lambda i, c=column, v=vectors: [
            sku_of[pid] for pid, _ in nearest_products(generation, v[i], column=c, k=K)]))  # fmt: skip

    t = time.perf_counter()
    text_vectors = product_vectors(generation, ids, "text_vector")
    table = lancedb.connect(str(tmp)).create_table("products", pa.table({
        "sku": skus, "text": texts,
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(text_vectors.ravel()), text_vectors.shape[1]),
    }))  # fmt: skip
    table.create_index("text", config=FTS())
    print(f"  LanceDB {lancedb.__version__}: table and full-text index in {time.perf_counter() - t:.1f} s "
          "(vector search: exact scan)", flush=True)  # fmt: skip

    def lance(builder) -> list[str]:
        return [row["sku"] for row in builder.limit(K).select(["sku"]).to_list()]

    found.append(
        Engine(
            "LanceDB: hybrid (FTS + text vector, RRF)",
            lambda i: lance(table.search(query_type="hybrid").vector(text_q[i]).text(queries[i].text)),
            "ours: production hybrid",
        )
    )
    found.append(Engine("LanceDB: full text", lambda i: lance(table.search(queries[i].text, query_type="fts")),
                        "ours: production hybrid"))  # fmt: skip

    for column, query_vectors in (("text_vector", text_q), ("fused", joint_q)):
        matrix = text_vectors if column == "text_vector" else product_vectors(generation, ids, column)
        t = time.perf_counter()
        # Unit vectors: L2 order is cosine order (FAISS's HNSW graph is built for L2; with METRIC_INNER_PRODUCT
        # its recall@10 on these clustered near-copies was 0.58-0.63).
        hnsw = faiss.IndexHNSWFlat(matrix.shape[1], HNSW_M)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.add(matrix)
        hnsw.hnsw.efSearch = settings.HNSW_EF_SEARCH  # as pgvector's ef_search on every connection
        exact = faiss.IndexFlatL2(matrix.shape[1])
        exact.add(matrix)
        built = time.perf_counter() - t
        truth = [{ids[j] for j in row} for row in exact.search(query_vectors, K)[1]]
        faiss_found = [{ids[j] for j in row if j >= 0} for row in hnsw.search(query_vectors, K)[1]]
        ours_found = [{pid for pid, _ in nearest_products(generation, v, column=column, k=K)} for v in query_vectors]
        print(f"  FAISS {faiss.__version__}, {column}: HNSW built in {built:.1f} s; recall@10 against the exact "
              f"top 10: FAISS HNSW {recall(faiss_found, truth):.3f}, ours (pgvector HNSW) "
              f"{recall(ours_found, truth):.3f}", flush=True)  # fmt: skip
        for name, index in (("HNSW", hnsw), ("exact", exact)):
            found.append(
                Engine(
                    f"FAISS {name}: {column}",
                    lambda i, x=index, v=query_vectors: [skus[j] for j in x.search(v[i : i + 1], K)[1][0] if j >= 0],
                    f"ours: pgvector HNSW, {column}",
                )
            )

    t = time.perf_counter()
    stemmer = Stemmer.Stemmer("english")
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    query_tokens = bm25s.tokenize([q.text for q in queries], stopwords="en", stemmer=stemmer, return_ids=False,
                                  show_progress=False)  # fmt: skip
    print(f"  bm25s: indexed in {time.perf_counter() - t:.1f} s", flush=True)

    def bm25_search(i: int) -> list[str]:
        hits, scores = bm25.retrieve([query_tokens[i]], k=min(K, len(skus)), show_progress=False, n_threads=1)
        return [skus[j] for j, score in zip(hits[0], scores[0], strict=True) if score > 0]

    found.append(Engine("bm25s: BM25", bm25_search, "ours: production hybrid"))
    return found


def report(rows: list[Row], args, seconds: float) -> None:
    by_name = {row.engine: row for row in rows}
    print(f"\nlatency and QPS: {args.products} products, {args.repeats} timed passes of the queries, one at a time; "
          "NDCG@10 on the luma-dev text queries with luma-dev alone and inside the scaled catalog.\nRatios are "
          "ours / theirs (latency below 1: ours is faster; QPS and NDCG above 1: ours is better).")  # fmt: skip
    scaled = f"NDCG {args.products}"
    header = (f"{'engine':<42} {'p50 ms':>8} {'p95 ms':>8} {'QPS':>8} {'NDCG luma':>9} {scaled:>10}"
              f"   {'compared with':<28} {'p50':>6} {'p95':>6} {'QPS':>6} {'NDCG':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        line = (f"{row.engine:<42} {row.p50:8.2f} {row.p95:8.2f} {row.qps:8.1f} {row.ndcg_luma:9.3f} "
                f"{row.ndcg_scaled:10.3f}")  # fmt: skip
        ours = by_name.get(row.versus)
        if ours:
            ndcg = ours.ndcg_luma / row.ndcg_luma if row.ndcg_luma else float("inf")
            line += (f"   {ours.engine:<28} {ours.p50 / row.p50:6.2f} {ours.p95 / row.p95:6.2f} "
                     f"{ours.qps / row.qps:6.2f} {ndcg:6.2f}")  # fmt: skip
        print(line)
    print(f"\nwhole run: {seconds:.0f} s")
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in rows], indent=2))


if __name__ == "__main__":
    main()
