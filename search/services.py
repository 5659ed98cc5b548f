"""Search writes: the search log (buffered in Redis, written in batches) and storefront events."""

from __future__ import annotations

import json
import logging
import uuid

import redis
from django.utils.dateparse import parse_datetime

from .cache import client, redis_key
from .models import SearchEvent, SearchLog

logger = logging.getLogger(__name__)

# Rows written per flush; the beat task flushes every few seconds, so the buffer stays far below this.
LOG_FLUSH_BATCH = 5000


def search_log_record(entry: dict) -> None:
    """Queue one search log row (a dict of SearchLog fields, ``id`` and ``created_at`` included). Searches never
    wait for the database to write their log; without Redis the row is written directly."""
    try:
        client().rpush(redis_key("log-buffer"), json.dumps(entry, default=str))
    except redis.RedisError:
        search_logs_write([entry])


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


def search_event_record(*, search_id: uuid.UUID, type: str, sku: str, position: int | None) -> SearchEvent:
    return SearchEvent.objects.create(search_id=search_id, type=type, sku=sku, position=position)
