"""Autocomplete latency at catalog scale: ``GET /api/v1/suggest`` over HTTP on loopback, keystroke by keystroke.

    python bench/suggest_latency.py [--products 50000] [--runs 3] [--popular 2000] [--targets 60]

Uses (or builds, several minutes the first time) the deterministic scaled catalog of bench/scaled_catalog.py in the
database ``test_scaled_<N>``; adds ``--popular`` popular queries (``QuerySuggestion`` rows: the luma-dev eval
queries, then colour/material + kind combinations of the source catalog, with made-up counts) and a search-only API
key holding the 1%-selective ``collection=Rare`` filter, both removed at the end. Measures the index build in this
process (time and memory), then starts gunicorn (2 workers) on a free port against the database and types the first
``--targets`` popular queries one keystroke at a time, every prefix a request (a storefront debounces, so it sends
fewer), one request at a time:

- **typing**: the prefixes as typed;
- **typos**: the prefixes of the same queries with one edit in the last word (typo-tolerant matching);
- **key filter**: the typing workload with the search-only key (its filter holds the products).

Each workload runs ``--runs`` times; each run prints the server's own time (its ``Server-Timing``) p50/p95/p99 and
the client's round trip. Target: server p95 <= 10 ms at 50,000 products on 2 cores.
"""

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from urllib.parse import urlencode

from _setup import ROOT, django_setup
from search_latency import Load, free_port, percentile, text_queries

TARGET_P95_MS = 10.0
WORKLOADS = ("typing", "typos", "key filter")


def prefixes(query: str) -> list[str]:
    """What a shopper's box holds keystroke by keystroke (a space typed is a request too)."""
    return [query[:n] for n in range(1, len(query) + 1) if query[:n].strip()]


def with_typo(query: str, rng: random.Random) -> str:
    """``query`` with one edit (deletion, transposition, substitution, insertion) inside its last word."""
    head, _, last = query.rpartition(" ")
    if len(last) < 4:
        return query
    at = rng.randrange(1, len(last) - 1)
    kind = rng.choice(("delete", "transpose", "substitute", "insert"))
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == "delete":
        last = last[:at] + last[at + 1 :]
    elif kind == "transpose":
        last = last[:at] + last[at + 1] + last[at] + last[at + 2 :]
    elif kind == "substitute":
        last = last[:at] + letter + last[at + 1 :]
    else:
        last = last[:at] + letter + last[at:]
    return f"{head} {last}" if head else last


def typo_prefixes(query: str, rng: random.Random) -> list[str]:
    """Prefixes of the misspelt query from the misspelt word's 4th character on (shorter ones are taken as typed)."""
    misspelt = with_typo(query, rng)
    head = misspelt.rpartition(" ")[0]
    start = len(head) + 1 + 4 if head else 4
    return [misspelt[:n] for n in range(min(start, len(misspelt)), len(misspelt) + 1)]


@contextlib.contextmanager
def catalog_database(products: int, *, seed: int, source: Path):
    """Django on the kept ``test_scaled_<products>``: as ``scaled_database`` keeps it, or as an earlier generator
    version built it (autocomplete reads no vectors, which is what generator versions change), so that a new
    version does not cost a rebuild here."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from scaled_catalog import _database_comment, _use_database, scaled_database, scaled_database_name

    name = scaled_database_name(products)
    built = (_database_comment(name) or {}).get("scaled_catalog", {})
    if built.get("products") != products or built.get("seed") != seed:
        with scaled_database(products, seed=seed, source=source):
            yield
        return
    original = settings.DATABASES[connection.alias]["NAME"]
    _use_database(name)
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        _use_database(original)


def index_build_measure() -> None:
    from search.suggest import SuggestIndex

    started = time.perf_counter()
    index = SuggestIndex.from_database()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = SuggestIndex.from_database()
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    counts = ", ".join(f"{kind} {len(data.texts)}" for kind, data in index.kinds.items())
    pairs = sum(len(data.index) for data in index.kinds.values())
    print(f"index: {counts}; {pairs} (text, entry) pairs; built in {seconds:.2f} s; holds "
          f"{(held - before) / 2**20:.1f} MB (peak {(peak - before) / 2**20:.1f} MB while building)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--popular", type=int, default=2000, help="popular queries offered")
    parser.add_argument("--targets", type=int, default=60, help="queries typed per workload")
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    django_setup()
    from django.db import connection

    from api_keys.models import ApiKey
    from api_keys.services import api_key_create
    from catalog.models import Product
    from search.models import QuerySuggestion

    rng = random.Random(args.seed)
    eval_queries = [json.loads(line)["query"] for line in
                    (args.source / "eval" / "text_queries.jsonl").read_text().splitlines() if line.strip()]  # fmt: skip
    combos = [q for q in text_queries(args.source, 10 * args.popular, args.seed) if q.replace(" ", "").isalpha()]
    popular = list(dict.fromkeys(eval_queries + combos))[: args.popular]
    targets = popular[: args.targets]
    with catalog_database(args.products, seed=args.seed, source=args.source):
        database = connection.settings_dict["NAME"]
        print(f"catalog: {Product.objects.count()} products in {database}; {len(popular)} popular queries; "
              f"{len(targets)} queries typed per workload", flush=True)  # fmt: skip
        QuerySuggestion.objects.filter(query__in=popular).delete()
        QuerySuggestion.objects.bulk_create([
            QuerySuggestion(query=q, searches=n + 5, searches_with_results=n + 5, last_result_count=10)
            for q, n in zip(popular, (int(1000 / (rank + 1)) for rank in range(len(popular))), strict=True)
        ])  # fmt: skip
        key, raw_key = api_key_create(name=f"bench-suggest-{os.getpid()}", filters={"collection": "Rare"})
        index_build_measure()
    port = free_port()
    env = {**os.environ, "DATABASE_NAME": database, "DJANGO_ENV": "production", "DEBUG": "0",
           "SECRET_KEY": uuid.uuid4().hex * 2, "SERVE_MEDIA": "0", "SEARCH_ANON_RATE": "1000000/min",
           "CACHE_KEY_PREFIX": f"bench-suggest-{os.getpid()}", "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shop_search.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "1", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        load = Load(port)
        deadline = time.monotonic() + 60
        while True:
            try:
                if load.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

        def request(q: str, headers: dict | None = None):
            status, _, server_ms, client_ms, payload = load.request("GET", "/api/v1/suggest?" + urlencode({"q": q}),
                                                                    headers=headers)  # fmt: skip
            if status != 200:
                raise RuntimeError(f"{q!r}: HTTP {status} {payload[:200]!r}")
            return server_ms, client_ms, json.loads(payload)

        # warm-up: each worker builds its index at its first request (in turn; keep-alive sticks to one worker)
        started = time.perf_counter()
        for _ in range(2):
            load.local.__dict__.pop("conn", None)  # a new connection: perhaps the other worker
            request("warm up")
        print(f"first requests (index builds): {time.perf_counter() - started:.1f} s", flush=True)
        for _ in range(2):  # both workers: the spelling vocabulary and word frequencies load at the first typo
            load.local.__dict__.pop("conn", None)
            for q in [p[:3] for p in popular[:20]] + ["hodie", "bleu hoo", "jaket "]:
                request(q)

        typed = [p for q in targets for p in prefixes(q)]
        typos = [p for q in targets for p in typo_prefixes(q, rng)]
        key_headers = {"X-Api-Key": raw_key}
        workloads = {"typing": (typed, None), "typos": (typos, None), "key filter": (typed, key_headers)}
        sample = {}
        for run in range(1, args.runs + 1):
            for name, (queries, headers) in workloads.items():
                server_times, client_times, empty_products = [], [], 0
                for q in queries:
                    server_ms, client_ms, body = request(q, headers)
                    server_times.append(server_ms)
                    client_times.append(client_ms)
                    empty_products += not body["products"]
                    if run == 1 and q in ("hoo", "hodie", "jack", "yoga p") and not headers:
                        sample[q] = body
                p95 = percentile(server_times, 95)
                print(f"run {run} {name:<10} n={len(server_times):<4} server ms p50 "
                      f"{percentile(server_times, 50):5.2f} p95 {p95:5.2f} p99 {percentile(server_times, 99):5.2f} | "
                      f"client ms p50 {percentile(client_times, 50):5.2f} p95 {percentile(client_times, 95):5.2f} | "
                      "without products "
                      f"{empty_products}  {'ok' if p95 <= TARGET_P95_MS else 'OVER TARGET'} "
                      f"(p95 <= {TARGET_P95_MS:g} ms)", flush=True)  # fmt: skip
        for q, body in sample.items():
            shown = ", ".join(f"{s['text']} ({s['kind']}{', typo' if s['typo'] else ''})" for s in body["suggestions"])
            print(f"  {q!r}: {shown} | products: {', '.join(p['name'] for p in body['products'])}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        with catalog_database(args.products, seed=args.seed, source=args.source):
            QuerySuggestion.objects.filter(query__in=popular).delete()
            ApiKey.objects.filter(pk=key.pk).delete()


if __name__ == "__main__":
    main()
