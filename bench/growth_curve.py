"""The growth curve: latency, build time, index sizes and memory over catalog sizes, projected to 1,000,000 products.

    python bench/scaled_catalog.py --products 250000            # build each size once (kept; timings recorded)
    flock /tmp/bench.lock python bench/search_latency.py --products 250000 --only hybrid --only photo \\
        --only similar --only "cache hit" --similar-lists requested --json /tmp/growth-250000.json
    python bench/growth_curve.py /tmp/growth-50000.json /tmp/growth-250000.json [--to 1000000]

Reads the figures ``search_latency.py --json`` wrote for each size and prints one table: per workload the server
p50/p95, HNSW and photo search recall@10, the scaled catalog's build phases, the active generation's HNSW indexes
(bytes and bytes per product), the database size, and memory (PostgreSQL's shared buffers, the web workers' RSS).
The last column projects to ``--to`` products from the two largest measured sizes: sizes and build times in
proportion to the products (HNSW builds grow a little faster, n log n), latencies both ways, linearly in the number
of products (an upper bound: what grows with the match set, like counting a broad query's facets) and linearly
in its logarithm (what grows like an HNSW search), and marked as projected.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

WORKLOADS = ("hybrid", "photo", "similar", "cache hit")
TARGETS_1M = {"hybrid": 40.0, "photo": 100.0, "similar": 5.0}


def _project(points: list[tuple[int, float]], to: int, *, log: bool) -> float | None:
    """The value at ``to`` on the line through the two largest points (in N, or in log N)."""
    if len(points) < 2:
        return None
    (n1, y1), (n2, y2) = sorted(points)[-2:]
    x = (lambda n: math.log(n)) if log else (lambda n: float(n))
    slope = (y2 - y1) / (x(n2) - x(n1))
    return y2 + slope * (x(to) - x(n2))


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
            lin, log = _project(points, args.to, log=False), _project(points, args.to, log=True)
            target = TARGETS_1M.get(name) if stat == "p95" else None
            projection = "" if lin is None else f"{log:.1f} (log N) to {lin:.1f} (N) ms"
            if target is not None and lin is not None:
                projection += f"; target {target:g}"
            row(f"{name} {stat} (server)", values, lambda v: f"{v:.1f} ms", projection)
    for key in sorted({k for run in runs for k in run.get("recall", {})}):
        row(f"recall@10 {key}", [run.get("recall", {}).get(key) for run in runs], lambda v: f"{v:.4f}")

    largest = runs[-1]
    scale = args.to / largest["products"]
    phases = sorted({p for run in runs for p in (run.get("build_seconds") or {})}, key=lambda p: p != "total")
    for phase in phases:
        values = [(run.get("build_seconds") or {}).get(phase) for run in runs]
        last = values[-1]
        row(f"build: {phase}", values, lambda v: f"{v / 60:.1f} min",
            "" if last is None else f"{last * scale / 60:.0f} min (x N)")  # fmt: skip

    def storage(run: dict, label: str) -> float | None:
        return (run.get("storage", {}).get("rows", {}).get(label) or {}).get("bytes")

    index_per_product = [storage(run, "HNSW indexes, all") / run["storage"]["products"] for run in runs]
    row("HNSW indexes (active generation)", [storage(run, "HNSW indexes, all") for run in runs], _mb,
        _mb(index_per_product[-1] * args.to))  # fmt: skip
    row("  bytes per product", index_per_product, lambda v: f"{v:,.0f} B", f"{index_per_product[-1]:,.0f} B")
    for label in ("table productembedding", "table imageembedding"):
        values = [storage(run, label) for run in runs]
        row(f"{label} (heap + TOAST)", values, _mb, _mb(values[-1] * scale) if values[-1] else "")
    databases = [run.get("database_bytes") for run in runs]
    row("database size", databases, _mb, _mb(databases[-1] * scale) if databases[-1] else "")
    buffers = [run.get("memory", {}).get("shared_buffers") for run in runs]
    row("PostgreSQL shared_buffers (set)", buffers, _mb,
        f">= {_mb(index_per_product[-1] * args.to)} (the indexes)")  # fmt: skip
    rss = [max(run.get("memory", {}).get("web_worker_rss") or [0]) or None for run in runs]
    row("web worker RSS (largest)", rss, _mb, _mb(rss[-1]) + " (no catalog-sized state)" if rss[-1] else "")
    uss = [run.get("memory", {}).get("postgres_uss") for run in runs]
    row("PostgreSQL processes' own memory (USS)", uss, _mb)

    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
