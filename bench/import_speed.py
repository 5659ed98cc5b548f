"""Import speed: a large text-only catalog imported in bulk, then imported again unchanged.

    flock /tmp/bench.lock python bench/import_speed.py [--products 50000] [--runs 3] [--catalog DIR]
                                                       [--line-sample 2000] [--scratch import_speed]

Writes a text-only catalog with ``bench/text_catalog.py`` (seed 7) unless ``--catalog`` names one, then per run,
on an emptied scratch database: the first import (``catalog_import``, bulk: products per second) and the import of
the same file again (every line unchanged: seconds). Prints each run and the median (p50) with the spread
(min-max) over the runs, and the CPU time per product of this process (both its threads: parsing, preparing the
statements) and of its database backend (when the database runs on this machine): what the machine's load does not
change. ``--line-sample N``: the first N products imported line by line as well (``bulk=False``), for comparison.
Targets: >= 2,000 products/s for the first import on 2 cores; the unchanged 50,000 in under 30 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from _setup import django_setup, peak_rss_mb, scratch_database


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a local PostgreSQL backend process (None when it is not on this machine)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def catalog_empty() -> None:
    from django.db import connection

    with connection.cursor() as cursor:  # the products' rows in every app go with them (foreign keys)
        cursor.execute("TRUNCATE catalog_product, catalog_category, catalog_review CASCADE")
        cursor.execute("VACUUM ANALYZE catalog_product")


def timed_import(path: Path, *, bulk: bool) -> tuple[float, float, float | None, object]:
    """Seconds, this process's CPU seconds, the backend's CPU seconds, and the report of one import."""
    from django.db import connection

    from catalog.services import catalog_import

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    backend_before, cpu_before, started = backend_cpu_seconds(pid), cpu_seconds(), time.perf_counter()
    report = catalog_import(path=path, bulk=bulk)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    backend_after = backend_cpu_seconds(pid)
    backend = None if backend_before is None or backend_after is None else backend_after - backend_before
    return seconds, cpu, backend, report


def spread(values: list[float], unit: str, digits: int = 0) -> str:
    return (f"p50 {statistics.median(values):,.{digits}f} {unit} (min {min(values):,.{digits}f}, max "
            f"{max(values):,.{digits}f}; {len(values)} runs)")  # fmt: skip


def per_product_ms(seconds: float | None, products: int) -> str:
    return "n/a" if seconds is None else f"{1000 * seconds / products:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000, help="products of the generated catalog")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--catalog", type=Path, help="a catalog folder to import instead of a generated one")
    parser.add_argument("--line-sample", type=int, default=2_000, help="products imported line by line too (0: none)")
    parser.add_argument("--scratch", default="import_speed", help="scratch database: test_<name>")
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "0")  # as a shop runs it: with DEBUG, Django keeps every statement it sends
    django_setup()

    with tempfile.TemporaryDirectory(prefix="import-speed-") as tmp:
        catalog = args.catalog
        if catalog is None:
            from text_catalog import generate

            catalog = Path(tmp) / "catalog"
            generate(catalog, args.products, 7)
        lines = (catalog / "products.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        print(f"catalog {catalog}: {len(lines):,} product lines, {len(''.join(lines).encode()) / 1e6:.1f} MB; "
              f"{os.cpu_count()} CPUs seen, load average {os.getloadavg()[0]:.1f}")  # fmt: skip

        first, again = [], []
        with scratch_database(args.scratch):
            for run in range(1, args.runs + 1):
                catalog_empty()
                seconds, cpu, backend, report = timed_import(catalog, bulk=True)
                assert report.created == len(lines) - report.skipped, report.summary()
                rate = report.created / seconds
                first.append(rate)
                print(f"run {run}: first import {report.created:,} products in {seconds:.1f} s = {rate:,.0f} "
                      f"products/s; CPU ms per product: importer {per_product_ms(cpu, report.created)}, database "
                      f"{per_product_ms(backend, report.created)}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
                seconds, cpu, backend, report = timed_import(catalog, bulk=True)
                assert report.unchanged == report.products_read and not report.updated, report.summary()
                again.append(seconds)
                print(f"run {run}: unchanged re-import of {report.unchanged:,} products in {seconds:.1f} s; CPU ms "
                      f"per product: importer {per_product_ms(cpu, report.unchanged)}, database "
                      f"{per_product_ms(backend, report.unchanged)}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
            if args.line_sample:
                sample = Path(tmp) / "sample"
                sample.mkdir()
                (sample / "products.jsonl").write_text("".join(lines[: args.line_sample]), encoding="utf-8")
                catalog_empty()
                seconds, _, _, report = timed_import(sample, bulk=False)
                print(f"line by line (bulk=False), the first {report.created:,} products: {seconds:.1f} s = "
                      f"{report.created / seconds:,.0f} products/s")  # fmt: skip
                catalog_empty()
                seconds, _, _, report = timed_import(sample, bulk=True)
                print(f"bulk, the same {report.created:,} products: {seconds:.1f} s = "
                      f"{report.created / seconds:,.0f} products/s")  # fmt: skip
        print(f"first import: {spread(first, 'products/s')}  [target >= 2,000]")
        print(f"unchanged re-import: {spread(again, 's', 1)}  [target < 30 s for 50,000]")
        print(f"peak memory of this process (the catalog generation included): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
