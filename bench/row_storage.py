"""Pages a search reads per candidate with its vectors in TOAST or in the row (migration embeddings/0010).

    python bench/row_storage.py [--products 250000] [--queries 30] [--cold]

On the kept scaled catalog ``test_scaled_<N>`` (bench/scaled_catalog.py), copies the active generation's photo rows
and product vector rows twice, once with pgvector's default storage (``EXTERNAL``: a row over 2 KB moves its largest
vectors to TOAST) and once as the migration keeps them (``MAIN``: in the row), and runs on each copy, for the same
``--queries`` query vectors (random catalog photos' and products' own):

- a photo statement as ``search.candidates`` runs it with the ``binary`` layout: the 1,000 photos nearest by binary
  code through an IVFFlat index over the copy (20 lists read), re-scored by their full vector;
- the scoring of 300 random products' text, fused and aligned image vectors (a text search's candidates).

It prints each copy's size (heap and TOAST) and, per statement, the pages it touched (buffer hits plus reads: the
same on any machine for the same data) and its time. With ``--cold`` (root, the embedded server) the server is
restarted and the operating system's page cache dropped before each copy is measured, after the photo copy's code
index alone is read back (in production the indexes stay in memory, the tables do not): the time of reading the
rows from disk, as at 1,000,000 products where the tables outgrow memory. The copies are dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
from pathlib import Path

from _setup import ROOT, django_setup

STORAGES = ("EXTERNAL", "MAIN")
PHOTO_COLUMNS = ("vector", "aligned")
PRODUCT_COLUMNS = ("text_vector", "fused", "aligned_image")


def _copies_create(cursor, generation) -> None:
    from embeddings.indexes import PHOTO_CODE_BITS, code_lists

    lists = code_lists(generation.image_embeddings.count())
    for storage in STORAGES:
        photos, products = f"bench_photo_{storage.lower()}", f"bench_product_{storage.lower()}"
        cursor.execute(f"DROP TABLE IF EXISTS {photos}, {products}")
        cursor.execute(f"CREATE TABLE {photos} (product_id bigint, vector vector, aligned vector, code bit varying)")
        cursor.execute(
            f"CREATE TABLE {products} (product_id bigint, text_vector vector, fused vector, aligned_image vector, "
            "image_vector vector, aligned_text vector)"
        )
        for table, columns in ((photos, PHOTO_COLUMNS), (products, PRODUCT_COLUMNS)):
            cursor.execute(
                f"ALTER TABLE {table} " + ", ".join(f"ALTER COLUMN {c} SET STORAGE {storage}" for c in columns)
            )
        cursor.execute(
            f"INSERT INTO {photos} SELECT product_id, vector, aligned, code FROM embeddings_imageembedding "
            "WHERE generation_id = %s",
            [generation.pk],
        )
        cursor.execute(
            f"INSERT INTO {products} SELECT product_id, text_vector, fused, aligned_image, image_vector, aligned_text "
            "FROM embeddings_productembedding WHERE generation_id = %s",
            [generation.pk],
        )
        bits = generation.image_dim * PHOTO_CODE_BITS
        cursor.execute(
            f"CREATE INDEX {photos}_code ON {photos} USING ivfflat ((code::bit({bits})) "
            f"bit_hamming_ops) WITH (lists = {lists})"
        )
        cursor.execute(f"CREATE INDEX {products}_product ON {products} (product_id)")
        cursor.execute(f"ANALYZE {photos}; ANALYZE {products}")


def _copies_drop(cursor) -> None:
    tables = [f"bench_{kind}_{storage.lower()}" for storage in STORAGES for kind in ("photo", "product")]
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(tables)}")


def _sizes(cursor, table: str) -> tuple[int, int]:
    cursor.execute(
        "SELECT pg_relation_size(oid), pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = %s", [table]
    )
    return cursor.fetchone()


def _explained(cursor, sql: str, params: dict) -> tuple[int, float]:
    """(pages touched, ms) of one statement."""
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    plan = "\n".join(row[0] for row in cursor.fetchall())
    top = next(line for line in plan.splitlines() if "Buffers:" in line)
    pages = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", top))
    return pages, float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))


def _cold_start(settings_dict: dict) -> None:
    """Restart the embedded server and drop the page cache (root)."""
    manage = [sys.executable, str(ROOT / "manage.py"), "embedded_db"]
    subprocess.run([*manage, "stop"], check=True, capture_output=True)
    subprocess.run("sync && echo 3 > /proc/sys/vm/drop_caches", shell=True, check=True)
    subprocess.run([*manage, "start"], check=True, capture_output=True)


def _summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {ordered[len(ordered) // 2]:7.1f}  p95 {p95:7.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=250_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cold", action="store_true", help="restart the server and drop the page cache first")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()
    from django.db import connection
    from scaled_catalog import scaled_database

    from embeddings.indexes import PHOTO_CODE_BITS, PHOTO_CODE_FUNCTION

    with scaled_database(args.products, seed=args.seed, source=args.source) as generation:
        bits = generation.image_dim * PHOTO_CODE_BITS
        with connection.cursor() as cursor:
            print("copying the generation's vector rows twice (default storage, in the row) ...", flush=True)
            _copies_create(cursor, generation)
            cursor.execute(
                "SELECT vector::text FROM embeddings_imageembedding WHERE id IN (SELECT id FROM "
                "embeddings_imageembedding WHERE generation_id = %s ORDER BY random() LIMIT %s)",
                [generation.pk, args.queries],
            )
            photo_queries = [row[0] for row in cursor.fetchall()]
            cursor.execute(
                "SELECT text_vector::text, fused::text FROM embeddings_productembedding WHERE generation_id = %s "
                "ORDER BY product_id LIMIT 1",
                [generation.pk],
            )
            text_query, joint_query = cursor.fetchone()
            cursor.execute(
                "SELECT min(product_id), max(product_id) FROM embeddings_productembedding WHERE generation_id = %s",
                [generation.pk],
            )
            low, high = cursor.fetchone()
        rng = random.Random(args.seed)
        candidate_sets = [[rng.randint(low, high) for _ in range(300)] for _ in range(args.queries)]
        settings_dict = dict(connection.settings_dict)
        print(f"{args.products} products, {len(photo_queries)} photo queries, {len(candidate_sets)} sets of 300 "
              f"products{', cold: server restarted and page cache dropped per copy' if args.cold else ''}")  # fmt: skip
        try:
            for storage in STORAGES:
                photos, products = f"bench_photo_{storage.lower()}", f"bench_product_{storage.lower()}"
                if args.cold:
                    connection.close()
                    _cold_start(settings_dict)
                with connection.cursor() as cursor:
                    heap, toast = _sizes(cursor, photos)
                    product_heap, product_toast = _sizes(cursor, products)
                    cursor.execute("SET ivfflat.probes = 20")
                    # the code index alone, back in memory (as in production)
                    cursor.execute(
                        f"SELECT count(*) FROM (SELECT 1 FROM {photos} ORDER BY (code::bit({bits})) <~> "
                        f"({PHOTO_CODE_FUNCTION}(%(q)s::vector)::bit({bits})) LIMIT 1) x",
                        {"q": photo_queries[0]},
                    )
                    photo_sql = (
                        "SELECT product_id, max(score) FROM (SELECT near.product_id, 1 - (near.vector <=> "
                        "%(q)s::vector) AS score FROM (SELECT product_id, vector FROM " + photos + " ORDER BY "
                        f"(code::bit({bits})) <~> ({PHOTO_CODE_FUNCTION}(%(q)s::vector)::bit({bits})) LIMIT 1000) near "
                        "ORDER BY score DESC LIMIT 300) photos GROUP BY product_id"
                    )
                    photo = [_explained(cursor, photo_sql, {"q": q}) for q in photo_queries]
                    product_sql = (
                        "SELECT product_id, 1 - (text_vector <=> %(t)s::vector), 1 - (fused <=> %(j)s::vector), "
                        f"1 - (aligned_image <=> %(j)s::vector) FROM {products} WHERE product_id = ANY(%(ids)s)"
                    )
                    product = [
                        _explained(cursor, product_sql, {"t": text_query, "j": joint_query, "ids": ids})
                        for ids in candidate_sets
                    ]
                mb = 2**20
                print(f"{storage:<8} photo rows: heap {heap / mb:7.0f} MB, TOAST {toast / mb:7.0f} MB | "
                      f"products: heap {product_heap / mb:7.0f} MB, TOAST {product_toast / mb:7.0f} MB")  # fmt: skip
                print(f"  photo statement (1,000 re-scored)   pages {_summary([p for p, _ in photo])}   ms "
                      f"{_summary([ms for _, ms in photo])}")  # fmt: skip
                print(f"  300 products' three vectors         pages {_summary([p for p, _ in product])}   ms "
                      f"{_summary([ms for _, ms in product])}")  # fmt: skip
        finally:
            with connection.cursor() as cursor:
                _copies_drop(cursor)


if __name__ == "__main__":
    main()
