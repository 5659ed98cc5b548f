"""Search analytics (reads over ``SearchLog`` and ``SearchEvent``): top queries, zero-result queries, queries
with low click-through, cache hit rate, latency percentiles and searches over time, within a time range.

Queries are grouped by their normalised text (lower case, single spaces); photo searches without text count in
the totals, latency and timeline but not in the query tables. A search "is clicked" when at least one click
event names it; click-through is clicked searches / searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Trunc

from .models import SearchEvent, SearchLog

# Rows in each query table of the analytics page.
QUERY_TABLE_LIMIT = 20
# A query needs this many searches before its click-through counts as "low" (one unclicked search says little).
LOW_CTR_MIN_SEARCHES = 3
# Ranges up to this long are charted per hour, longer ones per day.
HOURLY_UP_TO = timedelta(days=2)


@dataclass(frozen=True)
class Summary:
    searches: int
    zero_results: int
    clicked: int
    cache_hits: int
    cache_hit_rate: float | None  # None without searches
    click_through: float | None
    latency_p50: float | None
    latency_p95: float | None
    latency_p99: float | None


@dataclass(frozen=True)
class QueryStat:
    query: str
    searches: int
    clicked: int
    average_results: float

    @property
    def click_through(self) -> float:
        return self.clicked / self.searches if self.searches else 0.0


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    searches: int
    zero_results: int


def _logs(start: datetime, end: datetime) -> QuerySet[SearchLog]:
    """Searches with ``start <= created_at < end``."""
    return SearchLog.objects.filter(created_at__gte=start, created_at__lt=end)


def _clicked() -> Exists:
    return Exists(SearchEvent.objects.filter(search_id=OuterRef("pk"), type=SearchEvent.Type.CLICK))


def search_summary(*, start: datetime, end: datetime) -> Summary:
    """Totals, cache hit rate, click-through and latency percentiles (continuous, as PostgreSQL's
    ``percentile_cont``) of the searches in the range. 2 queries."""
    totals = _logs(start, end).aggregate(
        searches=Count("id"),
        zero_results=Count("id", filter=Q(result_count=0)),
        cache_hits=Count("id", filter=Q(cache_hit=True)),
        clicked=Count("id", filter=Q(_clicked())),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms) "
            "FROM search_searchlog WHERE created_at >= %s AND created_at < %s",
            [start, end],
        )
        percentiles = cursor.fetchone()[0] or [None, None, None]
    searches = totals["searches"]
    return Summary(
        searches=searches,
        zero_results=totals["zero_results"],
        clicked=totals["clicked"],
        cache_hits=totals["cache_hits"],
        cache_hit_rate=totals["cache_hits"] / searches if searches else None,
        click_through=totals["clicked"] / searches if searches else None,
        latency_p50=percentiles[0],
        latency_p95=percentiles[1],
        latency_p99=percentiles[2],
    )


def _query_stats(start: datetime, end: datetime) -> QuerySet:
    return (
        _logs(start, end)
        .exclude(normalized_query="")
        .values("normalized_query")
        .annotate(
            searches=Count("id"),
            clicked=Count("id", filter=Q(_clicked())),
            average_results=Avg("result_count"),
        )
    )


def _stats(rows) -> list[QueryStat]:
    return [
        QueryStat(
            query=row["normalized_query"],
            searches=row["searches"],
            clicked=row["clicked"],
            average_results=float(row["average_results"]),
        )
        for row in rows
    ]


def top_queries(*, start: datetime, end: datetime, limit: int = QUERY_TABLE_LIMIT) -> list[QueryStat]:
    """The most searched queries, most first (ties by query text)."""
    return _stats(_query_stats(start, end).order_by("-searches", "normalized_query")[:limit])


def zero_result_queries(*, start: datetime, end: datetime, limit: int = QUERY_TABLE_LIMIT) -> list[QueryStat]:
    """Queries that found nothing, most searched first (the catalog or the synonyms should know them)."""
    rows = (
        _logs(start, end)
        .filter(result_count=0)
        .exclude(normalized_query="")
        .values("normalized_query")
        .annotate(searches=Count("id"), clicked=Count("id", filter=Q(_clicked())), average_results=Avg("result_count"))
        .order_by("-searches", "normalized_query")[:limit]
    )
    return _stats(rows)


def low_click_through_queries(
    *, start: datetime, end: datetime, min_searches: int = LOW_CTR_MIN_SEARCHES, limit: int = QUERY_TABLE_LIMIT
) -> list[QueryStat]:
    """Queries with results and at least ``min_searches`` searches, lowest click-through first (then the most
    searched): shoppers saw results and did not like them."""
    rows = _query_stats(start, end).filter(searches__gte=min_searches, average_results__gt=0)
    stats = _stats(rows)
    stats.sort(key=lambda s: (s.click_through, -s.searches, s.query))
    return stats[:limit]


def searches_over_time(*, start: datetime, end: datetime) -> tuple[str, list[TimeBucket]]:
    """Searches and zero-result searches per hour (ranges up to two days) or per day (UTC), empty buckets
    included: (``"hour"`` or ``"day"``, buckets in time order)."""
    unit = "hour" if end - start <= HOURLY_UP_TO else "day"
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    rows = (
        _logs(start, end)
        .annotate(bucket=Trunc("created_at", unit))
        .values("bucket")
        .annotate(searches=Count("id"), zero_results=Count("id", filter=Q(result_count=0)))
    )
    counts = {row["bucket"]: row for row in rows}
    first = start.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        first = first.replace(hour=0)
    buckets, moment = [], first
    while moment < end:
        row = counts.get(moment, {})
        buckets.append(TimeBucket(moment, row.get("searches", 0), row.get("zero_results", 0)))
        moment += step
    return unit, buckets
