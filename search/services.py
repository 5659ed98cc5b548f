"""Search writes: the search log (buffered in Redis, written in batches) and storefront events."""

from __future__ import annotations

import json
import logging
import uuid

import redis
from django.utils.dateparse import parse_datetime

from .cache import client, popularity_count, redis_key, unavailable_warn
from .models import SearchEvent, SearchLog

logger = logging.getLogger(__name__)

# Rows written per flush; the beat task flushes every few seconds, so the buffer stays far below this.
LOG_FLUSH_BATCH = 5000


# How long after a search its results may receive storefront events (clicks, add to cart).
EVENT_WINDOW_SECONDS = 24 * 3600


def search_log_record(entry: dict, *, popular: dict | None = None, served: list[str] | None = None) -> None:
    """Queue one search log row (a dict of SearchLog fields, ``id`` and ``created_at`` included), remember the SKUs
    it ``served`` (so that events can only refer to a real search's results) and, with ``popular`` (a normalised
    text search request), count that request's popularity: one round trip to Redis. Searches never wait for the
    database to write their log; without Redis the row is written directly (and the count is lost, with a
    warning)."""
    try:
        pipeline = client().pipeline(transaction=False)
        pipeline.rpush(redis_key("log-buffer"), json.dumps(entry, default=str))
        if served is not None:
            pipeline.set(redis_key("served", entry["id"]), json.dumps(served), ex=EVENT_WINDOW_SECONDS)
        if popular is not None:
            popularity_count(pipeline, popular)
        queued, *counted = pipeline.execute(raise_on_error=False)
    except redis.RedisError as exc:
        queued, counted = exc, [exc]
    if isinstance(queued, Exception):
        search_logs_write([entry])
    for failure in counted:
        if isinstance(failure, Exception):
            unavailable_warn("popularity", failure)


def search_logs_flush() -> int:
    """Write the buffered search logs; returns how many."""
    try:
        raw = client().lpop(redis_key("log-buffer"), LOG_FLUSH_BATCH) or []
    except redis.RedisError as exc:
        logger.warning("search log buffer unavailable: %s", exc)
        return 0
    search_logs_write([json.loads(item) for item in raw])
    return len(raw)


def search_logs_write(entries: list[dict]) -> None:
    rows = []
    for entry in entries:
        entry = dict(entry)
        if isinstance(entry.get("created_at"), str):
            entry["created_at"] = parse_datetime(entry["created_at"])
        rows.append(SearchLog(**entry))
    SearchLog.objects.bulk_create(rows, ignore_conflicts=True)


class UnknownSearchResult(ValueError):
    """An event that refers to no search served in the last ``EVENT_WINDOW_SECONDS``, or to a product that
    search did not return; ``field`` says which."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def search_event_record(*, search_id: uuid.UUID, type: str, sku: str, position: int | None) -> SearchEvent:
    """Record a storefront event on a search's result; ``UnknownSearchResult`` when the search or the product in
    its results is not known (made-up events must not skew click-through analytics). Without Redis the event is
    recorded unchecked (and it is logged)."""
    try:
        served = client().get(redis_key("served", str(search_id)))
    except redis.RedisError as exc:
        unavailable_warn("event check", exc)
        served = None
    else:
        if served is None:
            raise UnknownSearchResult("search_id", "no such search in the last 24 hours")
        if sku not in json.loads(served):
            raise UnknownSearchResult("sku", "not among that search's results")
    return SearchEvent.objects.create(search_id=search_id, type=type, sku=sku, position=position)


# What a storefront event says of how much shoppers want a product (``sort=popularity``).
POPULARITY_EVENT_WEIGHTS = {"click": 1.0, "add_to_cart": 3.0}


def product_popularity_refresh() -> int:
    """Recompute every product's popularity from the storefront events of the last ``SEARCH_POPULARITY_DAYS`` days
    (a click counts 1, an add to cart 3) in one statement; products without events lose their row. Returns how
    many products have one."""
    from django.conf import settings
    from django.db import connection, transaction

    weights = " ".join(f"WHEN '{kind}' THEN {weight}" for kind, weight in POPULARITY_EVENT_WEIGHTS.items())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE fresh_popularity ON COMMIT DROP AS "
            f"SELECT p.id AS product_id, sum(CASE e.type {weights} ELSE 0 END)::float8 AS score "
            "FROM search_searchevent e JOIN catalog_product p ON p.sku = e.sku "
            "WHERE e.created_at >= now() - make_interval(days => %s) GROUP BY p.id",
            [settings.SEARCH_POPULARITY_DAYS],
        )
        cursor.execute(
            "DELETE FROM search_productpopularity pp WHERE NOT EXISTS "
            "(SELECT 1 FROM fresh_popularity f WHERE f.product_id = pp.product_id)"
        )
        cursor.execute(
            "INSERT INTO search_productpopularity (product_id, score, updated_at) "
            "SELECT product_id, score, now() FROM fresh_popularity "
            "ON CONFLICT (product_id) DO UPDATE SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at"
        )
        cursor.execute("SELECT count(*) FROM search_productpopularity")
        return cursor.fetchone()[0]
