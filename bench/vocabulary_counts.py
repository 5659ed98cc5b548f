"""Counting the spelling vocabulary: the database counts the texts' space-separated pieces (what
``search.spelling.vocabulary_counts`` does) against tokenizing every text in Python (what it did before).

    python bench/vocabulary_counts.py [--products 250000] [--runs 3]     # a generated text-only catalog
    python bench/vocabulary_counts.py --database test_scaled_250000     # a kept database, read only

Without ``--database`` it writes a text-only catalog with ``bench/text_catalog.py`` (seed 7) and imports it into the
scratch database ``test_vocabulary_counts``. Per run it times both ways on the same database, checks that they give
the same counts, and prints the median (p50) and the spread (min-max) over the runs and the ratio of the medians.
A web process counts its vocabulary after each catalog change (``search.spelling.current_vocabulary``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from _setup import django_setup, scratch_database


def tokenized_in_python() -> dict[str, int]:
    """The reference: every text read and tokenized here."""
    from django.db import connection

    from search.spelling import _VOCABULARY_SQL, MIN_WORD_LENGTH, tokenize

    counts: Counter[str] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(_VOCABULARY_SQL)
        for (text,) in cursor.fetchall():
            if text:
                counts.update(word for word in tokenize(text) if len(word) >= MIN_WORD_LENGTH)
    return dict(counts)


def spread(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=250_000, help="products of the generated catalog")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="an existing database to read instead of a generated catalog")
    args = parser.parse_args()
    if args.database:
        os.environ["DATABASE_NAME"] = args.database
    os.environ.setdefault("DEBUG", "0")
    django_setup()
    from catalog.models import Product
    from catalog.services import catalog_import
    from search.spelling import vocabulary_counts

    with contextlib.ExitStack() as stack:
        if not args.database:
            from text_catalog import generate

            catalog = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vocabulary-"))) / "catalog"
            generate(catalog, args.products, 7)
            stack.enter_context(scratch_database("vocabulary_counts"))
            started = time.monotonic()
            report = catalog_import(path=catalog)
            print(f"imported {report.created:,} products in {time.monotonic() - started:.0f} s")
        print(f"{Product.objects.count():,} products; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        times: dict[str, list[float]] = {"database counts pieces": [], "Python tokenizes every text": []}
        for run in range(1, args.runs + 1):
            results = []
            for name, count in zip(times, (vocabulary_counts, tokenized_in_python), strict=True):
                started = time.monotonic()
                results.append(count())
                times[name].append(time.monotonic() - started)
            assert results[0] == results[1], "the two ways counted differently"
            print(f"run {run}: {len(results[0]):,} words, {sum(results[0].values()):,} occurrences; "
                  + ", ".join(f"{name} {values[-1]:.2f} s" for name, values in times.items())
                  + f"; load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for name, values in times.items():
            print(f"{name}: {spread(values)}")
        medians = [statistics.median(values) for values in times.values()]
        print(f"Python / database: {medians[1] / medians[0]:.1f}x")


if __name__ == "__main__":
    main()
