"""Search analytics (reads over ``SearchLog`` and ``SearchEvent``): top queries, zero-result queries, queries
with low click-through, cache hit rate, latency percentiles and searches over time, within a time range; and the
joint space's health per generation and per day (searches no candidate covers, mean best similarity per signal).

Queries are grouped by their normalised text (lower case, single spaces); photo searches without text count in
the totals, latency and timeline but not in the query tables. A search "is clicked" when at least one click
event names it; click-through is clicked searches / searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Avg, Count, Exists, FloatField, OuterRef, Q, QuerySet, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Trunc

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


# --- joint-space health: queries the catalog does not cover ------------------------------------------------------

# The vector signals of each kind of search, in the order the analytics page shows them.
HEALTH_SIGNALS = {"text": ("text_vector", "cross_modal", "fused"), "photo": ("image", "cross_modal", "fused")}


@dataclass(frozen=True)
class SignalHealth:
    signal: str
    mean_best: float  # mean over the searches of the best similarity among the signal's candidates
    threshold: float | None  # the generation's relevance threshold in effect now (None: generation collected)
    change: float | None = None  # mean_best minus the previous generation's


@dataclass(frozen=True)
class GenerationHealth:
    """One generation's searches of one kind in the range. ``change`` figures compare with the previous generation
    (by id) that answered searches of this kind in the same range; None for the first."""

    generation_id: int | None
    kind: str
    searches: int
    not_covered: int
    signals: list[SignalHealth]  # those that ran, in ``HEALTH_SIGNALS`` order
    not_covered_change: float | None = None  # difference of not_covered_share (a fraction)

    @property
    def not_covered_share(self) -> float | None:
        return self.not_covered / self.searches if self.searches else None

    @property
    def not_covered_percent(self) -> float | None:
        return None if self.not_covered_share is None else 100 * self.not_covered_share

    @property
    def not_covered_change_points(self) -> float | None:
        """Percentage points up (positive: more searches not covered) from the previous generation."""
        return None if self.not_covered_change is None else 100 * self.not_covered_change


@dataclass(frozen=True)
class DayHealth:
    """One UTC day: per kind (searches, not covered, mean best similarity of its own-space signal), which
    generations answered, which were activated that day, and how many products were last changed that day."""

    day: datetime
    text_searches: int = 0
    text_not_covered: int = 0
    text_best: float | None = None  # text_vector
    photo_searches: int = 0
    photo_not_covered: int = 0
    photo_best: float | None = None  # image
    generations: tuple[int, ...] = ()
    activated: tuple[int, ...] = ()
    products_changed: int = 0

    @property
    def text_not_covered_share(self) -> float | None:
        return self.text_not_covered / self.text_searches if self.text_searches else None

    @property
    def photo_not_covered_share(self) -> float | None:
        return self.photo_not_covered / self.photo_searches if self.photo_searches else None

    @property
    def text_not_covered_percent(self) -> float | None:
        return self.text_not_covered * 100 / self.text_searches if self.text_searches else None

    @property
    def photo_not_covered_percent(self) -> float | None:
        return self.photo_not_covered * 100 / self.photo_searches if self.photo_searches else None

    @property
    def eventful(self) -> bool:
        """Searches were logged, a generation was activated or products changed that day."""
        return bool(self.text_searches or self.photo_searches or self.activated or self.products_changed)


def _health_logs(start: datetime, end: datetime) -> QuerySet[SearchLog]:
    """Searches whose coverage is known: a vector signal ran (not browsing, not keyword-only mode). Cache hits
    count, with the figures of the search that filled the cache (same generation: it is part of the cache key)."""
    return _logs(start, end).filter(vector_covered__isnull=False)


def _health_aggregates() -> dict:
    signals = sorted({signal for names in HEALTH_SIGNALS.values() for signal in names})
    return {
        "searches": Count("id"),
        "not_covered": Count("id", filter=Q(vector_covered=False)),
        **{f"best_{s}": Avg(Cast(KT(f"best_similarity__{s}"), FloatField())) for s in signals},
    }


def joint_space_health(*, start: datetime, end: datetime) -> list[GenerationHealth]:
    """Per generation and kind of search (newest generation first, text before photo): searches, how many found
    no candidate above the relevance threshold ("not covered"), the mean best similarity of each vector signal,
    and how these moved from the previous generation. 2 queries."""
    from embeddings.models import EmbeddingGeneration

    from .match_set import signal_scales

    rows = list(
        _health_logs(start, end)
        .values("generation_id", "kind")
        .annotate(**_health_aggregates())
        .order_by("kind", "generation_id")
    )
    generations = EmbeddingGeneration.objects.in_bulk({row["generation_id"] for row in rows} - {None})
    result: list[GenerationHealth] = []
    previous: dict[str, GenerationHealth] = {}
    for row in rows:
        kind = row["kind"]
        generation = generations.get(row["generation_id"])
        scales = signal_scales(generation, kind) if generation is not None else {}
        before = previous.get(kind)
        before_means = {s.signal: s.mean_best for s in before.signals} if before else {}
        signals = []
        for signal in HEALTH_SIGNALS.get(kind, ()):
            mean = row[f"best_{signal}"]
            if mean is None:  # no search of these ran it (a text-only generation has no joint-space signals)
                continue
            old = before_means.get(signal)
            signals.append(SignalHealth(
                signal=signal,
                mean_best=mean,
                threshold=scales[signal].threshold if signal in scales else None,
                change=mean - old if old is not None else None,
            ))  # fmt: skip
        share = row["not_covered"] / row["searches"]
        health = GenerationHealth(
            row["generation_id"], kind, row["searches"], row["not_covered"], signals,
            not_covered_change=share - before.not_covered_share if before is not None else None,
        )  # fmt: skip
        previous[kind] = health
        result.append(health)
    result.sort(key=lambda h: (-(h.generation_id or 0), h.kind != "text"))
    return result


def joint_space_health_by_day(*, start: datetime, end: datetime) -> list[DayHealth]:
    """Every UTC day of the range, in order, with its searches' coverage (``DayHealth``) beside what changed that
    day: generations activated, products last changed (a product changed again later counts on its last day
    only). 3 queries."""
    from catalog.models import Product
    from embeddings.models import EmbeddingGeneration

    rows = (
        _health_logs(start, end)
        .annotate(day=Trunc("created_at", "day"))
        .values("day", "kind")
        .annotate(
            searches=Count("id"),
            not_covered=Count("id", filter=Q(vector_covered=False)),
            best_text=Avg(Cast(KT("best_similarity__text_vector"), FloatField())),
            best_image=Avg(Cast(KT("best_similarity__image"), FloatField())),
            generations=ArrayAgg("generation_id", distinct=True, default=Value([])),
        )
    )
    days: dict[datetime, dict] = {}
    for row in rows:
        day = days.setdefault(row["day"], {"generations": set()})
        day["generations"].update(g for g in row["generations"] if g is not None)
        if row["kind"] == "text":
            day.update(text_searches=row["searches"], text_not_covered=row["not_covered"], text_best=row["best_text"])
        elif row["kind"] == "photo":
            day.update(
                photo_searches=row["searches"], photo_not_covered=row["not_covered"], photo_best=row["best_image"]
            )
    activated: dict[datetime, list[int]] = {}
    for pk, at in EmbeddingGeneration.objects.filter(activated_at__gte=start, activated_at__lt=end).values_list(
        "pk", "activated_at"
    ):
        activated.setdefault(_day_start(at), []).append(pk)
    changed = dict(
        Product.objects.filter(updated_at__gte=start, updated_at__lt=end)
        .annotate(day=Trunc("updated_at", "day"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    result, moment = [], _day_start(start)
    while moment < end:
        values = days.get(moment, {"generations": set()})
        result.append(DayHealth(
            day=moment,
            **{key: value for key, value in values.items() if key != "generations"},
            generations=tuple(sorted(values["generations"])),
            activated=tuple(sorted(activated.get(moment, []))),
            products_changed=changed.get(moment, 0),
        ))  # fmt: skip
        moment += timedelta(days=1)
    return result


def _day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
