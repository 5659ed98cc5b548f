"""The vector storage budget: bytes per product of a generation's vectors and indexes, and how well photo search
finds the best photos through its photo index layout.

    python bench/vector_storage.py [--products 50000] [--rescore 100,300,1000] [--rescore-photos 100,300,500,1000]
        [--samples 200] [--compare-layouts]

Uses the kept scaled catalog ``test_scaled_<N>`` of bench/scaled_catalog.py (built when missing) and prints:

- each vector index of the active generation (HNSW; IVFFlat for binary photo codes; ``pg_relation_size``) and the
  generation's share of the vector tables (``pg_table_size``: heap and TOAST), in bytes, bytes per product and per
  photo, and projected to 1,000,000 products (at this catalog's photos per product, and at three photos each);
- photo search recall@10: the products ranked by their best photo through the generation's photo path (what
  ``search.candidates`` runs: with the ``product`` layout, the ``SEARCH_PHOTO_RESCORE_PRODUCTS`` nearest products by
  pooled vector re-scored by their photos; with the ``binary`` layout, the ``SEARCH_PHOTO_RESCORE_PHOTOS`` nearest
  photos by binary code re-scored) against an exact scan over every photo, for each ``--rescore`` value
  (``--rescore-photos`` with ``binary``);
  queries are ``--samples`` random catalog photos' own vectors and luma-dev's evaluation photos (78 withheld views,
  encoded by the generation's image encoder); and the time of that statement alone, in process;
- with ``--compare-layouts``, the same for the other layouts (``photo``: an HNSW index over every photo, ``binary``:
  an IVFFlat index over every photo's binary code; each built for the measurement with ``photo_index_switch`` and
  dropped afterwards, the generation switched back to its own layout: minutes at 50,000 products).

Run it under ``flock /tmp/bench.lock`` on a shared machine: it reads every photo vector once.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from _setup import ROOT, django_setup

MILLION = 1_000_000
STREAM_ROWS = 20_000  # photo vectors read per round trip of the exact scan


def storage_report(generation, *, out=print) -> dict:
    """Print the generation's storage table; returns its figures (bytes, per product, per photo, 1M projections)."""
    from embeddings.indexes import COLUMNS, storage_measure

    storage = storage_measure(generation)
    per_photo_ratio = storage.photos / storage.products if storage.products else 0.0
    rows = {}
    out(f"generation {generation.pk} ({storage.photo_index} layout): {storage.products} products, {storage.photos} "
        f"photos ({per_photo_ratio:.2f} a product)")  # fmt: skip
    out(f"{'':<32} {'bytes':>14} {'B/product':>10} {'B/photo':>8} {'1M, this mix':>13} {'1M, 3 photos':>13}")

    def row(label: str, size: int, per_photo: bool) -> None:
        per_product = storage.per_product(size)
        per_photo_bytes = size / storage.photos if per_photo and storage.photos else None
        at_mix = per_product * MILLION
        at_three = per_photo_bytes * 3 * MILLION if per_photo_bytes is not None else at_mix
        rows[label] = {"bytes": size, "per_product": round(per_product), "per_photo": per_photo_bytes and round(
            per_photo_bytes), "million": round(at_mix), "million_3_photos": round(at_three)}  # fmt: skip
        photo_text = f"{per_photo_bytes:8.0f}" if per_photo_bytes is not None else f"{'':>8}"
        out(f"{label:<32} {size:>14,} {per_product:>10.0f} {photo_text} {_gb(at_mix):>13} {_gb(at_three):>13}")

    for name, size in storage.indexes.items():
        method = "IVFFlat" if COLUMNS[name].code else "HNSW"
        row(f"{method} {name}", size, COLUMNS[name].table == "embeddings_imageembedding")
    three = sum(r["million_3_photos"] for r in rows.values())
    row("indexes, all", storage.index_bytes, False)
    rows["indexes, all"]["million_3_photos"] = three
    for table, size in storage.tables.items():
        row(f"table {table.removeprefix('embeddings_')}", size, table == "embeddings_imageembedding")
    out(f"(1M, 3 photos: the per-photo rows scaled to 3 photos a product; indexes, all at 3 photos: {_gb(three)})")
    return {"generation": generation.pk, "photo_index": storage.photo_index, "products": storage.products,
            "photos": storage.photos, "rows": rows}  # fmt: skip


def _gb(size: float) -> str:
    return f"{size / 1e9:.2f} GB"


# --- photo search recall ----------------------------------------------------------------------------------------


def photo_queries(generation, *, samples: int, seed: int, source: Path) -> dict[str, np.ndarray]:
    """Query vectors: ``samples`` random catalog photos' own vectors ("catalog photos") and the source catalog's
    evaluation photos encoded by the generation's image encoder ("luma-dev eval photos")."""
    from PIL import Image

    from embeddings.queries import photo_query

    queries = {"catalog photos": sample_vectors(generation, "embeddings_imageembedding", "vector", samples, seed)}
    path = source / "eval" / "photo_queries.jsonl"
    if path.exists():
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        queries["luma-dev eval photos"] = np.array(
            [photo_query(generation, Image.open(source / line["image"])).image_vector for line in lines]
        )
    return {kind: vectors / np.linalg.norm(vectors, axis=1, keepdims=True) for kind, vectors in queries.items()}


def sample_vectors(generation, table: str, column: str, samples: int, seed: int) -> np.ndarray:
    """``samples`` random rows' vectors of ``column`` (not NULL) in the generation's rows of ``table``, unit length."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE generation_id = %s AND {column} IS NOT NULL", [generation.pk])
        ids = sorted(row[0] for row in cursor.fetchall())
        picks = random.Random(seed).sample(ids, min(samples, len(ids)))
        cursor.execute(f"SELECT {column}::text FROM {table} WHERE id = ANY(%s) ORDER BY id", [picks])
        vectors = np.array([np.array(row[0].strip("[]").split(","), dtype=np.float32) for row in cursor.fetchall()])
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def sent_vectors(values: list) -> np.ndarray:
    """Vectors in pgvector's send format (``vector_send``: dimensions, unused, big-endian floats), one a row, as a
    float32 matrix: read straight into numpy, several times faster than a loader per value."""
    return (
        np.frombuffer(b"".join(bytes(value)[4:] for value in values), dtype=">f4")
        .reshape(len(values), -1)
        .astype(np.float32)
    )


def exact_best_photos(generation, queries: np.ndarray, k: int = 10) -> list[list[int]]:
    """For each query, the ``k`` products with the most similar photo (cosine of the stored vectors), over every
    photo of the generation."""
    return exact_top(generation, "embeddings_imageembedding", "product_id", "vector", queries, k)


def exact_top(generation, table: str, key: str, column: str, queries: np.ndarray, k: int = 10) -> list[list[int]]:
    """For each query, the ``k`` values of ``key`` whose best row by cosine of ``column`` (as stored) is the
    most similar, over the generation's rows of ``table``: one streamed pass over the vectors for all queries."""
    from django.db import connection, transaction

    connection.ensure_connection()
    raw = connection.connection
    best: dict[int, np.ndarray] = {}
    # server-side (streamed, never all in memory), in pgvector's send format (dimensions, unused, big-endian floats)
    # read straight into numpy
    with transaction.atomic(), raw.cursor(name="photo_vectors") as cursor:
        cursor.execute(f"SELECT {key}, vector_send({column}::vector) FROM {table} WHERE generation_id = %s "
                       f"AND {column} IS NOT NULL", [generation.pk])  # fmt: skip
        while rows := cursor.fetchmany(STREAM_ROWS):
            owners = np.array([row[0] for row in rows])
            vectors = sent_vectors([row[1] for row in rows])
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            scores = vectors @ queries.T  # photos x queries
            unique, inverse = np.unique(owners, return_inverse=True)
            chunk_best = np.full((len(unique), len(queries)), -2.0, np.float32)
            np.maximum.at(chunk_best, inverse, scores)
            for product_id, values in zip(unique.tolist(), chunk_best, strict=True):
                known = best.get(product_id)
                best[product_id] = values if known is None else np.maximum(known, values)
    products = np.array(list(best))
    matrix = np.stack(list(best.values()))  # products x queries
    return [products[np.argsort(-matrix[:, q], kind="stable")[:k]].tolist() for q in range(len(queries))]


def photo_path_top(generation, vector: np.ndarray, k: int = 10) -> list[int]:
    """The ``k`` best products by best photo through the generation's photo path, as search reads them."""
    from django.db import connection

    from search.candidates import _literal, _photo_subquery

    sql, params = _photo_subquery(generation, "image", "true", [], _literal(vector))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT product_id, score FROM {sql} found ORDER BY score DESC, product_id LIMIT %s",
                       [*params, k])  # fmt: skip
        return [row[0] for row in cursor.fetchall()]


def photo_search_recall(
    generation, queries: dict[str, np.ndarray], rescore: list[int], rescore_photos: list[int] | None = None
) -> dict:
    """Recall@10 of the photo path against ``exact_best_photos`` and the statement's in-process p50/p95 (ms), per
    query kind and per ``SEARCH_PHOTO_RESCORE_PRODUCTS`` value (``binary`` layout: per ``SEARCH_PHOTO_RESCORE_PHOTOS``
    value of ``rescore_photos``, by default the setting's; one value for the per-photo layout: it has none)."""
    from django.conf import settings
    from django.test.utils import override_settings

    from embeddings.indexes import photo_index_per_photo

    result: dict = {}
    if photo_index_per_photo(generation):
        setting, values, name = None, [None], ""
    elif generation.photo_index == "binary":
        setting, name = "SEARCH_PHOTO_RESCORE_PHOTOS", "rescore photos"
        values = rescore_photos or [settings.SEARCH_PHOTO_RESCORE_PHOTOS]
    else:
        setting, values, name = "SEARCH_PHOTO_RESCORE_PRODUCTS", rescore, "rescore"
    for kind, vectors in queries.items():
        started = time.perf_counter()
        truth = exact_best_photos(generation, vectors)
        exact_seconds = time.perf_counter() - started
        for value in values:
            label = "per-photo index" if value is None else f"{name} {value}"
            with override_settings(**({} if value is None else {setting: value})):
                photo_path_top(generation, vectors[0])  # the first statement of a setting plans it
                found, times = 0, []
                for vector, exact in zip(vectors, truth, strict=True):
                    t = time.perf_counter()
                    top = photo_path_top(generation, vector)
                    times.append((time.perf_counter() - t) * 1000)
                    found += len(set(top) & set(exact))
            times.sort()
            result.setdefault(kind, {})[label] = {
                "recall@10": round(found / (10 * len(vectors)), 4),
                "p50_ms": round(times[len(times) // 2], 1),
                "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            }
        result[kind]["queries"] = len(vectors)
        result[kind]["exact_scan_s"] = round(exact_seconds, 1)
    return result


def print_recall(recall: dict, out=print) -> None:
    for kind, rows in recall.items():
        out(f"photo search recall@10 vs exact best photo, {kind} ({rows['queries']} queries):")
        for label, row in rows.items():
            if isinstance(row, dict):
                out(f"  {label:<20} recall@10 {row['recall@10']:.4f}   statement p50 {row['p50_ms']:6.1f} ms  "
                    f"p95 {row['p95_ms']:6.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0, help="of the scaled catalog")
    parser.add_argument("--query-seed", type=int, default=0, help="which catalog photos are the queries")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rescore", default="100,300,1000", help="SEARCH_PHOTO_RESCORE_PRODUCTS values to measure")
    parser.add_argument("--rescore-photos", default="100,300,500,1000",
                        help="SEARCH_PHOTO_RESCORE_PHOTOS values to measure (binary layout)")  # fmt: skip
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--compare-layouts", action="store_true",
                        help="also measure the other layouts (builds their indexes, then drops them)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    django_setup()
    from scaled_catalog import scaled_database

    from embeddings.indexes import photo_index_switch

    rescore = [int(v) for v in args.rescore.split(",")]
    rescore_photos = [int(v) for v in args.rescore_photos.split(",")]
    figures: dict = {"products": args.products}
    with scaled_database(args.products, seed=args.seed, source=args.source) as generation:
        figures["storage"] = storage_report(generation)
        queries = photo_queries(generation, samples=args.samples, seed=args.query_seed, source=args.source)
        figures["recall"] = {generation.photo_index: photo_search_recall(generation, queries, rescore, rescore_photos)}
        print_recall(figures["recall"][generation.photo_index])
        if args.compare_layouts:
            original = generation.photo_index
            # the per-photo index last: switching back to it rebuilds it (the slowest)
            others = [layout for layout in ("binary", "product", "photo") if layout != original]
            try:
                for other in others:
                    started = time.perf_counter()
                    photo_index_switch(generation, other)
                    print(f"\nswitched to the {other} layout: {time.perf_counter() - started:.0f} s")
                    figures["storage_" + other] = storage_report(generation)
                    figures["recall"][other] = photo_search_recall(generation, queries, rescore, rescore_photos)
                    print_recall(figures["recall"][other])
            finally:
                started = time.perf_counter()
                photo_index_switch(generation, original)
                print(f"\nswitched back to the {original} layout: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
