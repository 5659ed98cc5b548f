"""Search analytics selectors against hand-made search logs and events, with exact expected figures."""

from datetime import UTC, datetime, timedelta

import pytest

from search import analytics
from search.models import SearchEvent, SearchLog

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, tzinfo=UTC)


def log(query: str, *, at: datetime, results: int = 5, latency: float = 10.0, cache_hit: bool = False,
        kind: str = "text") -> SearchLog:  # fmt: skip
    return SearchLog.objects.create(
        kind=kind, query=query, normalized_query=" ".join(query.lower().split()), result_count=results,
        latency_ms=latency, cache_hit=cache_hit, created_at=at,
    )  # fmt: skip


def click(search: SearchLog, sku: str = "A", type: str = "click") -> None:
    SearchEvent.objects.create(search=search, type=type, sku=sku, position=1)


@pytest.fixture
def logs():
    """A day of searches (hours 9 to 11) plus one the day before and one the day after (outside the range)."""
    at = DAY.replace(hour=9)
    jackets = [log("Red Jacket", at=at + timedelta(minutes=i), latency=10.0 * (i + 1)) for i in range(4)]
    click(jackets[0])
    click(jackets[0], sku="B")  # two clicks on one search count as one clicked search
    click(jackets[1], type="add_to_cart")  # not a click
    tents = [log("tent", at=DAY.replace(hour=10, minute=i), latency=50.0 + i, cache_hit=True) for i in range(3)]
    click(tents[0])
    click(tents[1])
    click(tents[2])
    log("unicorn", at=DAY.replace(hour=10, minute=30), results=0, latency=5.0)
    log("unicorn", at=DAY.replace(hour=11), results=0, latency=5.0)
    log("", at=DAY.replace(hour=11, minute=5), kind="photo", latency=40.0)  # a photo search without text
    log("tent", at=DAY - timedelta(hours=1))
    log("tent", at=DAY + timedelta(days=1))
    return DAY, DAY + timedelta(days=1)


def test_summary_counts_rates_and_latency_percentiles(logs):
    start, end = logs
    summary = analytics.search_summary(start=start, end=end)
    # 4 jackets + 3 tents + 2 unicorns + 1 photo = 10; latencies 10,20,30,40 | 50,51,52 | 5,5 | 40
    assert summary.searches == 10
    assert summary.zero_results == 2
    assert summary.cache_hits == 3 and summary.cache_hit_rate == pytest.approx(0.3)
    assert summary.clicked == 4 and summary.click_through == pytest.approx(0.4)
    # sorted: 5 5 10 20 30 40 40 50 51 52; percentile_cont interpolates at (n - 1) * p
    assert summary.latency_p50 == pytest.approx(35.0)  # between 30 and 40
    assert summary.latency_p95 == pytest.approx(51.55)  # 51 + 0.55 * (52 - 51)
    assert summary.latency_p99 == pytest.approx(51.91)


def test_summary_of_an_empty_range():
    summary = analytics.search_summary(start=DAY, end=DAY + timedelta(days=1))
    assert summary.searches == 0 and summary.cache_hit_rate is None and summary.latency_p95 is None


def test_top_zero_result_and_low_click_through_queries(logs):
    start, end = logs
    top = analytics.top_queries(start=start, end=end)
    assert [(q.query, q.searches, q.clicked) for q in top] == [("red jacket", 4, 1), ("tent", 3, 3), ("unicorn", 2, 0)]
    assert top[0].click_through == pytest.approx(0.25)

    zero = analytics.zero_result_queries(start=start, end=end)
    assert [(q.query, q.searches) for q in zero] == [("unicorn", 2)]

    # at least 3 searches and some results: red jacket (25 %) before tent (100 %); unicorn has no results
    low = analytics.low_click_through_queries(start=start, end=end, min_searches=3)
    assert [(q.query, round(q.click_through, 2)) for q in low] == [("red jacket", 0.25), ("tent", 1.0)]
    assert analytics.low_click_through_queries(start=start, end=end, min_searches=4)[0].query == "red jacket"


def test_searches_over_time_per_hour_and_per_day(logs):
    start, end = logs
    unit, buckets = analytics.searches_over_time(start=start, end=end)
    assert unit == "hour" and len(buckets) == 24
    assert {b.start.hour: (b.searches, b.zero_results) for b in buckets if b.searches} == {
        9: (4, 0), 10: (4, 1), 11: (2, 1)
    }  # fmt: skip

    unit, buckets = analytics.searches_over_time(start=start - timedelta(days=2), end=end + timedelta(days=1))
    assert unit == "day"
    assert [(b.start.day, b.searches) for b in buckets] == [(8, 0), (9, 1), (10, 10), (11, 1)]


def test_svg_bar_chart_scales_to_a_round_maximum_and_escapes_labels():
    from dashboard.charts import Series, bar_chart, nice_ceiling

    assert [nice_ceiling(v) for v in (0, 0.7, 3, 7, 10, 11, 430)] == [1.0, 1.0, 5.0, 10.0, 10.0, 20.0, 500.0]
    svg = bar_chart(["<b>mon</b>", "tue"], [Series("searches", [4, 2], "#0969da")], title="Searches & more")
    assert svg.count("<rect") == 3  # two bars and the legend's swatch
    assert "&lt;b&gt;mon&lt;/b&gt;" in svg and "<b>" not in svg and "Searches &amp; more" in svg
    # the axis goes to 5 (the round ceiling of 4) over 220 - 12 - 36 = 172 px: bars of 4/5 and 2/5 of that
    assert 'height="137.6"' in svg and 'height="68.8"' in svg
