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


# --- joint-space health: queries the catalog does not cover ------------------------------------------------------


def health_log(kind: str, at: datetime, generation: int | None, covered: bool | None, **best: float) -> SearchLog:
    return SearchLog.objects.create(
        kind=kind, query="q", result_count=1, latency_ms=1.0, generation_id=generation, created_at=at,
        best_similarity=best, vector_covered=covered,
    )  # fmt: skip


def test_joint_space_health_per_generation_and_per_day_on_hand_made_logs():
    # given two days of searches: generation 1 on the 10th, generation 2 from the 11th
    day1, day2 = DAY.replace(hour=9), DAY.replace(hour=9) + timedelta(days=1)
    health_log("text", day1, 1, True, text_vector=0.8, cross_modal=0.5, fused=0.6)
    health_log("text", day1, 1, False, text_vector=0.2, cross_modal=0.3, fused=0.2)
    health_log("photo", day1, 1, True, image=0.9, cross_modal=0.4, fused=0.5)
    health_log("text", day2, 2, False, text_vector=0.3, cross_modal=0.2, fused=0.3)
    health_log("text", day2, 2, False, text_vector=0.1, cross_modal=0.2, fused=0.1)
    health_log("text", day2, 2, True, text_vector=0.9, cross_modal=0.5, fused=0.8)
    health_log("text", day2, None, None)  # browsing: no vector signal ran, left out
    health_log("text", day2 - timedelta(days=5), 1, False, text_vector=0.1)  # outside the range

    # when
    rows = analytics.joint_space_health(start=DAY, end=DAY + timedelta(days=2))

    # then: newest generation first, text before photo; changes against the previous generation of the same kind
    assert [(r.generation_id, r.kind, r.searches, r.not_covered) for r in rows] == [
        (2, "text", 3, 2), (1, "text", 2, 1), (1, "photo", 1, 0)
    ]  # fmt: skip
    newest, older, photo = rows
    assert newest.not_covered_share == pytest.approx(2 / 3)
    assert newest.not_covered_change == pytest.approx(2 / 3 - 1 / 2)
    assert newest.not_covered_change_points == pytest.approx(100 * (2 / 3 - 1 / 2))
    means = {s.signal: s.mean_best for s in newest.signals}
    assert means == {
        "text_vector": pytest.approx(1.3 / 3), "cross_modal": pytest.approx(0.3), "fused": pytest.approx(0.4)
    }  # fmt: skip
    assert {s.signal: s.change for s in newest.signals} == {
        "text_vector": pytest.approx(1.3 / 3 - 0.5), "cross_modal": pytest.approx(0.3 - 0.4), "fused": pytest.approx(0)
    }  # fmt: skip
    assert older.not_covered_change is None and all(s.change is None for s in older.signals)
    assert [(s.signal, s.mean_best) for s in photo.signals] == [
        ("image", pytest.approx(0.9)), ("cross_modal", pytest.approx(0.4)), ("fused", pytest.approx(0.5))
    ]  # fmt: skip
    assert all(s.threshold is None for r in rows for s in r.signals)  # these generations do not exist (collected)

    days = analytics.joint_space_health_by_day(start=DAY, end=DAY + timedelta(days=2))
    assert [(d.day.day, d.text_searches, d.text_not_covered, d.photo_searches, d.generations) for d in days] == [
        (10, 2, 1, 1, (1,)), (11, 3, 2, 0, (2,))
    ]  # fmt: skip
    assert days[0].text_best == pytest.approx(0.5) and days[0].photo_best == pytest.approx(0.9)
    assert days[1].text_not_covered_percent == pytest.approx(200 / 3) and days[1].photo_best is None


def upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def noise_photo() -> bytes:
    """A photo unlike any product photo of the small catalog (each one flat colour): a noisy grey pattern."""
    from io import BytesIO

    import numpy as np
    from PIL import Image

    buffer = BytesIO()
    Image.fromarray((np.random.default_rng(1).random((64, 48, 3)) * 255).astype("uint8")).save(buffer, "JPEG")
    return buffer.getvalue()


def test_searches_record_how_well_the_catalog_covers_them_per_generation(api, catalog_dir, settings):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from catalog.services import catalog_import
    from search.match_set import signal_scales
    from search.selectors import process_caches_clear
    from search.services import search_logs_flush

    from .conftest import build_generation, jpeg_bytes, write_small_catalog

    # given the small shop with an active generation
    catalog_import(path=write_small_catalog(catalog_dir))
    first = build_generation()

    # when shoppers search: a query the catalog covers (twice: the second is a cache hit), a nonsense one, a photo
    # of a red product, a photo of something the shop does not sell, and browsing
    good = api.get("/api/v1/search", {"q": "red tent"})
    hit = api.get("/api/v1/search", {"q": "red tent"})
    nonsense = api.get("/api/v1/search", {"q": "zzzzqqq"})
    red = api.post("/api/v1/search/image", {"image": upload(jpeg_bytes(size=(48, 64), color=(220, 20, 20)))})
    noise = api.post("/api/v1/search/image", {"image": upload(noise_photo())})
    api.get("/api/v1/search")
    assert hit["X-Cache"] == "HIT" and "_coverage" not in hit.content.decode()  # the private part is never sent
    assert nonsense.json()["total"] == 0 and noise.json()["total"] == 0 and red.json()["total"] > 0
    assert search_logs_flush() == 6

    # then each search's log row says how close the catalog came, a cache hit as its search did
    def logged(response) -> SearchLog:
        return SearchLog.objects.get(pk=response.json()["search_id"])

    text_threshold = signal_scales(first, "text")["text_vector"].threshold
    good_log, nonsense_log = logged(good), logged(nonsense)
    assert good_log.vector_covered is True and good_log.best_similarity["text_vector"] >= text_threshold
    assert set(good_log.best_similarity) == {"text_vector", "cross_modal", "fused"}
    assert (logged(hit).vector_covered, logged(hit).best_similarity) == (True, good_log.best_similarity)
    assert nonsense_log.vector_covered is False and nonsense_log.best_similarity["text_vector"] < text_threshold
    assert logged(red).vector_covered is True and logged(noise).vector_covered is False
    assert set(logged(red).best_similarity) == {"image", "cross_modal", "fused"}
    assert SearchLog.objects.get(query="", kind="text").vector_covered is None  # browsing

    now = timezone.now()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    rows = {(r.generation_id, r.kind): r for r in analytics.joint_space_health(start=start, end=end)}
    assert set(rows) == {(first.pk, "text"), (first.pk, "photo")}
    text, photo = rows[first.pk, "text"], rows[first.pk, "photo"]
    assert (text.searches, text.not_covered, photo.searches, photo.not_covered) == (3, 1, 2, 1)
    text_means = {s.signal: s.mean_best for s in text.signals}
    expected = (2 * good_log.best_similarity["text_vector"] + nonsense_log.best_similarity["text_vector"]) / 3
    assert text_means["text_vector"] == pytest.approx(expected, abs=1e-6)
    assert all(mean is not None for mean in text_means.values())
    assert {s.signal: s.threshold for s in text.signals}["text_vector"] == pytest.approx(text_threshold)

    # when a new generation is built and activated, and a shopper searches again
    second = build_generation()
    process_caches_clear()
    api.get("/api/v1/search", {"q": "zzzzqqq"})
    api.get("/api/v1/search", {"q": "red tent"})
    search_logs_flush()

    # then the figures are split per generation, the new one compared with the one before
    rows = analytics.joint_space_health(start=start, end=end)
    assert [(r.generation_id, r.kind, r.searches, r.not_covered) for r in rows] == [
        (second.pk, "text", 2, 1), (first.pk, "text", 3, 1), (first.pk, "photo", 2, 1)
    ]  # fmt: skip
    assert rows[0].not_covered_change == pytest.approx(1 / 2 - 1 / 3)
    assert all(s.change is not None for s in rows[0].signals)
    days = analytics.joint_space_health_by_day(start=start, end=end)
    assert sum(d.text_searches for d in days) == 5 and {g for d in days for g in d.generations} == {first.pk, second.pk}
    assert second.pk in {g for d in days for g in d.activated}
    assert sum(d.products_changed for d in days) == 16  # the catalog was imported today

    # and the analytics page shows the section
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    page = client.get("/admin/analytics/").content.decode()
    assert "queries the catalog does not cover" in page and 'id="health-generations"' in page
    assert page.count('<svg class="chart"') == 3 and 'id="health-days"' in page
    assert f"generations {first.pk}, {second.pk} activated" in page and "16 products changed" in page
    assert "50.0%" in page and "33.3%" in page  # not covered: 1 of 2 (second), 1 of 3 (first)
