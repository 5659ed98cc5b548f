"""Where a search's time goes at catalog scale: its statements one at a time, in process.

    python bench/search_breakdown.py [--products 250000] [--queries 150]

On the kept scaled catalog ``test_scaled_<N>`` (bench/scaled_catalog.py), for search_latency.py's text queries
(the same ones, cache misses) and luma-dev's evaluation photos: p50/p95 of the full-text statement alone
(``search.candidates``' keyword statement: BM25 of the best members, the match set's size and facet counts), of the
vector statement alone (every vector signal's HNSW read with the documents), of a photo's vector statement, and of
``search_products`` as a whole (in process, without HTTP, the cache or the photo's decoding and encoding). The
statements that grow with the catalog show where the hybrid and photo latency of search_latency.py grows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _setup import ROOT, django_setup


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    args = parser.parse_args()
    django_setup()
    from django.test.utils import override_settings
    from PIL import Image
    from scaled_catalog import scaled_database
    from search_latency import text_queries

    from embeddings.queries import photo_query, query_text_vectors
    from search import candidates
    from search.filters import filters_sql
    from search.keywords import keyword_query
    from search.selectors import search_products
    from search.spelling import current_vocabulary
    from search.types import Candidates, SearchQuery

    queries = text_queries(args.source, args.queries + 40, args.seed)[40:]
    lines = [json.loads(line) for line in (args.source / "eval" / "photo_queries.jsonl").read_text().splitlines()]
    with scaled_database(args.products, seed=args.seed, source=args.source) as generation, \
            override_settings(SEARCH_PARALLEL_STATEMENTS=False):  # fmt: skip
        where, where_params = filters_sql(SearchQuery(text="x").filters)
        times: dict[str, list[float]] = {"keyword": [], "vectors": [], "search": [], "photo vectors": []}
        search_products(SearchQuery(text=queries[0]), generation)  # models, vocabulary, term statistics loaded
        for text in queries:
            corrected = current_vocabulary().correct_query(text)
            keyword = keyword_query(corrected.alternatives)
            if keyword is not None:
                read = candidates._keyword_statement(keyword, where, where_params, 20 + 200)
                times["keyword"].append(_timed(candidates._read_keyword, Candidates(kind="text"), read))
            text_vector, joint = query_text_vectors(generation, corrected.corrected)
            signals = [("text_vector", "text_vector", text_vector), ("cross_modal", "aligned_image", joint),
                       ("fused", "fused", joint)]  # fmt: skip
            times["vectors"].append(_timed(candidates._read_vectors, Candidates(kind="text"), generation, signals,
                                           where, where_params, keyword))  # fmt: skip
            times["search"].append(_timed(search_products, SearchQuery(text=text), generation))
        photos = [photo_query(generation, Image.open(args.source / line["image"])) for line in lines if line]
        for photo in photos:
            times["photo vectors"].append(_timed(candidates.photo_candidates, generation, SearchQuery(photo=photo)))
        print(f"{args.products} products, generation {generation.pk} ({generation.photo_index} photo index), "
              f"{len(queries)} text queries, {len(photos)} photos; in process, one at a time")  # fmt: skip
        labels = {"keyword": "full-text statement", "vectors": "text: vector statement",
                  "search": "search_products (text)", "photo vectors": "photo: vector statement"}  # fmt: skip
        for name, values in times.items():
            print(f"  {labels[name]:<26} {_percentiles(values)}")


if __name__ == "__main__":
    main()
