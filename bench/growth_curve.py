"""The growth curve: latency, build time, index sizes and memory over catalog sizes, projected to 1,000,000 products.

    python bench/scaled_catalog.py --products 250000            # build each size once (kept; timings recorded)
    flock /tmp/bench.lock python bench/search_latency.py --products 250000 --only hybrid --only photo \\
        --only similar --only "cache hit" --similar-lists requested --json /tmp/growth-250000.json
    python bench/growth_curve.py /tmp/growth-50000.json /tmp/growth-250000.json [--to 1000000]

Reads the figures ``search_latency.py --json`` wrote for each size and prints one table: per workload the server
p50/p95, HNSW and photo search recall@10, the scaled catalog's build phases, the active generation's HNSW indexes
(bytes and bytes per product), the database size, and memory (PostgreSQL's shared buffers, the web workers' RSS).
The last column projects to ``--to`` products from the two largest measured sizes: sizes and build times in
proportion to the products (HNSW builds grow a little faster, n log n; the source catalog's own import and
embedding, with the real encoders, stays as it is), latencies both ways, linearly in the number
of products (an upper bound: what grows with the match set, like counting a broad query's facets) and linearly
in its logarithm (what grows like an HNSW search), never below the largest size's (see ``_project``), and marked
as projected. Every figure is one run's: on a machine shared with other work, p95 moves by a factor of two or
three between runs, so record the load average (``uptime``) beside the table.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

WORKLOADS = ("hybrid", "photo", "similar", "cache hit")
# Build phases that do not grow with the catalog: the real source catalog (luma-dev) imported and embedded.
FIXED_PHASES = ("create + migrate", "import source catalog", "train head + build generation (real encoders)")
# Build phases that grow as N log N (an HNSW insert searches a graph of the rows before it); the others as N.
# Measured on this 2-core machine under load 6-10: 323 s at 50,000, 1,438 s at 250,000 (x4.5 for x5 the products).
NLOGN_PHASES = ("HNSW indexes",)
TARGETS_1M = {"hybrid": 40.0, "photo": 100.0, "similar": 5.0}


def _project(points: list[tuple[int, float]], to: int, *, log: bool, rising: bool = False) -> float | None:
    """The value at ``to`` on the line through the two largest points (in N, or in log N). ``rising``: a latency,
    which a larger catalog does not make faster, so a line that falls (the smaller size measured slower, which is
    the noise of a shared machine) projects the largest size's value instead of heading for zero."""
    if len(points) < 2:
        return None
    (n1, y1), (n2, y2) = sorted(points)[-2:]
    x = (lambda n: math.log(n)) if log else (lambda n: float(n))
    slope = (y2 - y1) / (x(n2) - x(n1))
    return max(y2 if rising else 0.0, y2 + slope * (x(to) - x(n2)))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def _mb(size: float) -> str:
    return f"{size / 1e6:,.0f} MB" if size < 1e9 else f"{size / 1e9:.2f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("figures", nargs="+", type=Path, help="search_latency.py --json files, one per size")
    parser.add_argument("--to", type=int, default=1_000_000, help="project to this many products")
    args = parser.parse_args()
    runs = sorted((json.loads(path.read_text()) for path in args.figures), key=lambda run: run["products"])
    sizes = [run["products"] for run in runs]
    header = ["", *[f"{n:,} measured" for n in sizes], f"{args.to:,} projected"]
    rows: list[list[str]] = []

    def row(label: str, values: list[float | None], fmt, projection: str = "") -> None:
        rows.append([label, *["-" if v is None else fmt(v) for v in values], projection])

    for name in WORKLOADS:
        for stat in ("p50", "p95"):
            values = [run.get("workloads", {}).get(name, {}).get(f"server_{stat}") for run in runs]
            points = [(n, v) for n, v in zip(sizes, values, strict=True) if v is not None]
            lin = _project(points, args.to, log=False, rising=True)
            log = _project(points, args.to, log=True, rising=True)
            target = TARGETS_1M.get(name) if stat == "p95" else None
            projection = "" if lin is None else f"{log:.1f} (log N) to {lin:.1f} (N) ms"
            if target is not None and lin is not None:
                projection += f"; target {target:g}"
            row(f"{name} {stat} (server)", values, lambda v: f"{v:.1f} ms", projection)
    for key in sorted({k for run in runs for k in run.get("recall", {})}):
        values = [run.get("recall", {}).get(key) for run in runs]
        log = _project([(n, v) for n, v in zip(sizes, values, strict=True) if v is not None], args.to, log=True)
        row(f"recall@10 {key}", values, lambda v: f"{v:.4f}", "" if log is None else f"{min(log, 1.0):.4f} (log N)")

    largest = runs[-1]
    scale = args.to / largest["products"]
    phases = list(dict.fromkeys(p for run in runs for p in (run.get("build_seconds") or {})))
    total = 0.0
    for phase in [p for p in phases if p != "total"] + ["total"]:
        values = [(run.get("build_seconds") or {}).get(phase) for run in runs]
        last = values[-1]
        if last is None:
            projection = ""
        elif phase == "total":
            projection = f"{total / 60:.0f} min"
        elif phase in FIXED_PHASES:
            total += last
            projection = f"{_duration(last)} (fixed)"
        elif phase in NLOGN_PHASES:
            grown = last * scale * math.log(args.to) / math.log(largest["products"])
            total += grown
            projection = f"{grown / 60:.0f} min (x N log N)"
        else:
            total += last * scale
            projection = f"{last * scale / 60:.0f} min (x N)"
        row(f"build: {phase}", values, _duration, projection)

    def storage(run: dict, label: str) -> float | None:
        rows = run.get("storage", {}).get("rows", {})
        if label == "indexes, all" and label not in rows:
            label = "HNSW indexes, all"  # written before the binary codes' index was an IVFFlat one
        return (rows.get(label) or {}).get("bytes")

    index_per_product = [storage(run, "indexes, all") / run["storage"]["products"] for run in runs]
    row("vector indexes (active generation)", [storage(run, "indexes, all") for run in runs], _mb,
        _mb(index_per_product[-1] * args.to))  # fmt: skip
    row("  bytes per product", index_per_product, lambda v: f"{v:,.0f} B", f"{index_per_product[-1]:,.0f} B")
    for label in ("table productembedding", "table imageembedding"):
        values = [storage(run, label) for run in runs]
        row(f"{label} (heap + TOAST)", values, _mb, _mb(values[-1] * scale) if values[-1] else "")
    databases = [run.get("database_bytes") for run in runs]
    row("database size", databases, _mb, _mb(databases[-1] * scale) if databases[-1] else "")
    buffers = [run.get("memory", {}).get("shared_buffers") for run in runs]
    # Photo search with the pooled layout re-scores its candidates' photos from the photo table: a statement touches
    # ~6,000 buffers, 130-280 ms when they are read from outside the buffer pool, 9-15 ms when they are in it
    # (EXPLAIN (ANALYZE, BUFFERS), 250,000 products, 1 GB shared_buffers). The photo table belongs in memory too.
    photos_per_product = (storage(largest, "table imageembedding") or 0) / largest["storage"]["products"]
    row("PostgreSQL shared_buffers (set)", buffers, _mb, f">= {_mb(index_per_product[-1] * args.to)} (indexes), "
        f"{_mb((index_per_product[-1] + photos_per_product) * args.to)} with the photo table")  # fmt: skip
    rss = [max(run.get("memory", {}).get("web_worker_rss") or [0]) or None for run in runs]
    rss_at = _project([(n, v) for n, v in zip(sizes, rss, strict=True) if v], args.to, log=False)
    row("web worker RSS (largest)", rss, _mb, "" if rss_at is None else f"{_mb(rss_at)} (N)")
    uss = [run.get("memory", {}).get("postgres_uss") for run in runs]
    row("PostgreSQL processes' own memory (USS)", uss, _mb)

    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    if len(sizes) > 1:
        print(f"projected: lines through {sizes[-2]:,} and {sizes[-1]:,} products (latencies never below the "
              f"{sizes[-1]:,} figure); one run per size")  # fmt: skip


if __name__ == "__main__":
    main()
