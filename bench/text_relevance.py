"""A plain BM25 reference (bm25s) on a catalog's text evaluation files, and optionally a running server's search.

    python bench/text_relevance.py CATALOG_DIR EVAL_FILE [EVAL_FILE...] [--api http://host:port | --database NAME]

BM25 (Lucene variant, k1 1.2, b 0.75, English stop words, English Snowball stemmer when PyStemmer is installed)
over each product's name, categories, brand, attribute values and description (tags stripped, entities unescaped).
Every product with a positive score is the query's result list (best first; ties by catalog order), so the
whole-set figures are those of a keyword OR-match and a query none of whose words the catalog knows finds nothing.
``--api`` also sends every query to ``URL/api/v1/search?q=...&page_size=100``, page after page until ``total``
(at most ``--max-pages``), and measures what comes back the same way; ``--database NAME`` does the same in this
process, through the storefront API (Django's test client) on the shop-search database NAME where the catalog was
imported and indexed (``DATABASE_NAME=NAME manage.py import_catalog CATALOG_DIR && ... reindex``).
One line per file and engine: NDCG@10, R@1,
R@10, MRR, P@5 and the whole result set's precision, recall and F1 (evaluation/metrics.py; grade > 0 is relevant),
and for files of empty relevant sets the zero-result rate. Django only for ``--database``.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluation.evalfiles import read_eval_file  # noqa: E402
from evaluation.metrics import summarize  # noqa: E402

FIELDS = "name + categories + brand + attribute values + description"
TAG = re.compile(r"<[^>]+>")


def product_text(product: dict) -> str:
    attributes = product.get("attributes") or {}
    values = []
    for value in attributes.values():
        values += value if isinstance(value, list) else [value]
    description = html.unescape(TAG.sub(" ", product.get("description") or ""))
    categories = [c.replace("/", " / ") for c in product.get("categories") or []]
    return " ".join(map(str, [product["name"], *categories, product.get("brand") or "", *values, description]))


class Bm25:
    def __init__(self, catalog: Path, k1: float, b: float):
        import bm25s

        try:
            import Stemmer

            self.stemmer, self.stemmer_name = Stemmer.Stemmer("english").stemWords, "english (PyStemmer)"
        except ImportError:
            self.stemmer, self.stemmer_name = None, "none"
        self.bm25s = bm25s
        self.skus, texts = [], []
        with open(catalog / "products.jsonl", encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    product = json.loads(line)
                    self.skus.append(str(product["sku"]))
                    texts.append(product_text(product))
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        self.retriever.index(tokens, show_progress=False)
        self.vocabulary = self.retriever.vocab_dict

    def describe(self) -> str:
        return (f"bm25s {self.bm25s.__version__} lucene k1={self.retriever.k1} b={self.retriever.b}, stemmer "
                f"{self.stemmer_name}, stop words en, {len(self.skus)} products, text: {FIELDS}")  # fmt: skip

    def rank(self, query: str) -> list[str]:
        words = self.bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, return_ids=False,
                                    show_progress=False)[0]  # fmt: skip
        words = [w for w in words if w in self.vocabulary]
        if not words:
            return []
        scores = self.retriever.get_scores(words)
        hits = np.flatnonzero(scores > 0)
        order = hits[np.argsort(-scores[hits], kind="stable")]
        return [self.skus[i] for i in order]


class Api:
    def __init__(self, url: str, page_size: int, max_pages: int):
        self.url, self.page_size, self.max_pages = url.rstrip("/"), page_size, max_pages

    def _get(self, params: dict) -> dict:
        address = f"{self.url}/api/v1/search?{urllib.parse.urlencode(params)}"
        for attempt in range(6):
            try:
                with urllib.request.urlopen(address, timeout=60) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                if error.code != 429 or attempt == 5:
                    raise RuntimeError(f"{address} answered {error.code}: {error.read()[:300]!r}") from None
                time.sleep(float(error.headers.get("Retry-After") or 2))
        raise AssertionError("unreachable")

    def rank(self, query: str) -> list[str]:
        skus: list[str] = []
        for page in range(1, self.max_pages + 1):
            body = self._get({"q": query, "page": page, "page_size": self.page_size})
            found = [str(item["sku"]) for item in body.get("results", [])]
            skus += found
            if len(found) < self.page_size or len(skus) >= body.get("total", len(skus)):
                break
        return skus


class InProcess:
    """The storefront search API of database ``name`` through Django's test client, every page."""

    def __init__(self, name: str):
        import os

        os.environ["DATABASE_NAME"] = name
        sys.path.insert(0, str(ROOT / "bench"))
        from _setup import django_setup

        django_setup()
        from django.conf import settings

        from evaluation.through_api import api_client

        settings.SEARCH_ANON_RATE = "1000000/min"
        self.client = api_client()

    def rank(self, query: str) -> list[str]:
        from evaluation.evalfiles import EvalQuery
        from evaluation.through_api import rank_text

        return rank_text(self.client, EvalQuery("text", {}, text=query))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("catalog", type=Path, help="catalog folder (products.jsonl)")
    parser.add_argument("files", type=Path, nargs="+", help="text evaluation files (JSONL)")
    parser.add_argument("--api", help="also measure a running server, e.g. http://localhost:8000")
    parser.add_argument("--database", help="also measure shop-search on this database, in process")
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--max-pages", type=int, default=50)
    parser.add_argument("--k1", type=float, default=1.2)
    parser.add_argument("--b", type=float, default=0.75)
    args = parser.parse_args()

    started = time.perf_counter()
    bm25 = Bm25(args.catalog, args.k1, args.b)
    print(f"# {bm25.describe()}; indexed in {time.perf_counter() - started:.1f} s", flush=True)
    engines = [("bm25", bm25)] + ([("api", Api(args.api, args.page_size, args.max_pages))] if args.api else [])
    if args.database:
        engines.append(("ours", InProcess(args.database)))
    for path in args.files:
        queries = [q for q in read_eval_file(path, catalog_dir=args.catalog) if q.kind == "text"]
        for name, engine in engines:
            started = time.perf_counter()
            rankings = [engine.rank(q.text) for q in queries]
            figures = summarize(rankings, [q.relevant for q in queries])
            per_query = (time.perf_counter() - started) / max(len(queries), 1) * 1000
            print(f"{name:<5} {path.name:<18} {figures}  [{per_query:.0f} ms/query]", flush=True)


if __name__ == "__main__":
    main()
