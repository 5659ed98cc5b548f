"""Browser tests: Debian's headless Chromium driven by Selenium (Debian's chromedriver) against a live server on the
test database, with the real Celery worker where a page starts background work. Each test saves screenshots
under ``artifacts/screenshots/`` (git-ignored). Select them with ``-m browser``; they run in the default suite.

``make test`` installs Chromium and chromedriver (``scripts/test.py``) and selenium (``requirements-dev.txt``).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.services import catalog_import
from embeddings.models import EmbeddingGeneration, Job, TrainedHead
from quality.services import quality_report_build
from search.models import SearchEvent, SearchLog

from .conftest import ROOT, build_generation, jpeg_bytes, write_small_catalog

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
WAIT_SECONDS = 20
STAFF_PASSWORD = "browser-test-password"


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium for the session (each test starts with no cookies)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed: `make test` installs them (Debian packages chromium "
                    "and chromium-driver), or run `apt-get install -y chromium chromium-driver`")  # fmt: skip
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for a browser on the internet
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1366,1000",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


class Browser:
    """The driver with this test's live server, waits, and screenshots."""

    def __init__(self, driver, base_url: str, test_name: str):
        self.driver = driver
        self.base_url = base_url
        self.test_name = test_name
        self.shots = 0

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = WAIT_SECONDS, message: str = ""):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        def safe(driver):
            try:
                return condition(driver)
            except StaleElementReferenceException:  # the page re-rendered between find and read
                return False

        return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(safe, message)

    def wait_for(self, css: str, timeout: float = WAIT_SECONDS):
        return self.wait(lambda d: self.find_all(css), timeout, f"nothing matches {css}")[0]

    def screenshot(self, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{label}.png"
        self.driver.save_screenshot(str(path))
        return path

    def log_in(self, username: str, password: str) -> None:
        self.open("/admin/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.find("input[type=submit]").click()
        self.wait_for("#dashboard-links")


@pytest.fixture
def browser(chromium, live_server, request) -> Browser:
    chromium.get(live_server.url + "/healthz")
    chromium.delete_all_cookies()
    return Browser(chromium, live_server.url, request.node.name)


@pytest.fixture
def staff_user():
    return get_user_model().objects.create_user("operator", password=STAFF_PASSWORD, is_staff=True, is_superuser=True)


_head: dict = {}


def small_shop(catalog_dir, *, generation: bool = True) -> EmbeddingGeneration | None:
    """The 16-product catalog; with ``generation``, built and active. The alignment head is trained once per
    session (seconds) and copied into later tests' databases."""
    catalog_import(path=write_small_catalog(catalog_dir))
    if _head:
        TrainedHead.objects.create(**_head)
    if not generation:
        return None
    built = build_generation()
    head = built.head
    _head.update(encoder_spec=head.encoder_spec, config=head.config, report=head.report, weights=bytes(head.weights),
                 joint_dim=head.joint_dim)  # fmt: skip
    return built


# --- admin ----------------------------------------------------------------------------------------------------------


def test_staff_open_every_admin_page_and_run_a_playground_query(browser, staff_user, catalog_dir):
    small_shop(catalog_dir)
    browser.log_in("operator", STAFF_PASSWORD)
    browser.screenshot("admin-index")

    browser.open("/admin/catalog/product/")
    browser.wait(lambda d: len(browser.find_all("#result_list img[src*='/media/']")) == 16, message="thumbnails")
    assert "fresh" in browser.find("#result_list").text
    browser.screenshot("products")
    browser.find("#result_list tbody tr a").click()
    browser.wait_for(".inline-group img")
    browser.screenshot("product-change")

    browser.open("/admin/operations/")
    assert "hashing + pixel-stats" in browser.wait_for("#generations").text
    browser.screenshot("operations")

    now = timezone.now()
    for minutes, (query, results) in enumerate([("red tent", 4), ("red tent", 4), ("blue kayak", 0)]):
        SearchLog.objects.create(kind="text", query=query, normalized_query=query, result_count=results,
                                 latency_ms=10.0 + minutes, created_at=now - timedelta(minutes=minutes))  # fmt: skip
    browser.open("/admin/analytics/")
    assert len(browser.find_all("svg.chart")) == 2
    assert browser.find("#searches").text == "3"
    assert "red tent" in browser.find("#top-queries").text and "blue kayak" in browser.find("#zero-result-queries").text
    browser.screenshot("analytics")

    browser.open("/admin/playground/")
    browser.find("#id_q").send_keys("red tent")
    browser.find("#id_w_fulltext").send_keys("0")
    browser.find("#id_w_fused").send_keys("3")
    browser.find("#playground-search").click()
    table = browser.wait_for("#playground-results")
    rows = browser.find_all("#playground-results tbody tr")
    assert rows and "default rank" in table.text.lower() and "fused" in table.text.lower()
    assert rows[0].get_attribute("data-sku").endswith("RED")
    browser.screenshot("playground")

    quality_report_build(generation=EmbeddingGeneration.objects.get(state=EmbeddingGeneration.State.ACTIVE))
    browser.open("/admin/catalog-quality/")
    assert "products" in browser.wait_for("#content-main").text and browser.find_all("#findings")
    browser.screenshot("catalog-quality")


def test_a_reindex_started_in_the_browser_shows_progress_up_to_100_percent(
    browser, staff_user, catalog_dir, live_worker
):
    # given a catalog without any generation (the worker shares this test's photo storage and database)
    small_shop(catalog_dir, generation=False)
    browser.log_in("operator", STAFF_PASSWORD)
    browser.open("/admin/operations/")
    browser.wait_for("#build-button").click()

    # the worker builds it; the page polls the job's progress and shows it reaching 100 % (the activation then
    # queues a job of its own, the similar-item lists, which shows above it)
    seen = set()
    browser.wait_for("#jobs-body tr[data-job]")
    job = Job.objects.get(kind=Job.Kind.BUILD)

    def finished(driver) -> bool:
        rows = browser.find_all(f'#jobs-body tr[data-job="{job.pk}"]')
        if not rows:
            return False
        text = rows[0].text
        seen.add(rows[0].find_element("css selector", ".percent").text.strip())
        return "100.0%" in text and "done" in text

    browser.screenshot("build-queued")
    browser.wait(finished, timeout=120, message="the build job reached 100 %")
    browser.screenshot("build-done")
    job.refresh_from_db()
    assert job.state == Job.State.DONE and job.percent == 100.0
    assert EmbeddingGeneration.objects.get(state="active") == job.generation

    # a reload keeps showing it (the state is the Job row), with the new generation in the table
    time.sleep(2)  # the page reloads itself once after the job ends
    browser.open("/admin/operations/")
    browser.wait_for("#jobs-body tr[data-job]")
    assert "100.0%" in browser.find(f'#jobs-body tr[data-job="{job.pk}"]').text
    assert "active" in browser.find(f'#generations tr[data-generation="{job.generation_id}"]').text
    browser.screenshot("after-reload")


# --- storefront -------------------------------------------------------------------------------------------------


def test_a_shopper_searches_filters_searches_by_photo_and_opens_similar_items(browser, catalog_dir, tmp_path):
    small_shop(catalog_dir)
    browser.open("/")
    browser.wait(lambda d: len(browser.find_all("#products .card")) == 16, message="the catalog is browsable")
    browser.screenshot("home")

    # search
    box = browser.find("#search-input")
    box.send_keys("tent")
    browser.find("#search-button").click()
    browser.wait(lambda d: "tent" in browser.find("#results-title").text)
    browser.wait(lambda d: browser.find_all("#products .card"))
    assert browser.find_all("#products .card")[0].get_attribute("data-sku").startswith("TEN")
    browser.screenshot("search")

    # filter by a facet
    red = next(a for a in browser.find_all('[data-facet="color"] a') if a.text.startswith("Red"))
    red.click()
    browser.wait(lambda d: browser.find_all('.chip[data-filter="color"]'))
    cards = "#products .card"
    browser.wait(lambda d: all(card.get_attribute("data-sku").endswith("RED") for card in browser.find_all(cards)))
    assert "color=Red" in browser.driver.current_url
    browser.screenshot("facet")

    # search by photo (a blue photo, no filters)
    browser.open("/")
    browser.wait(lambda d: browser.find_all("#products .card"))
    photo = tmp_path / "blue.jpg"
    photo.write_bytes(jpeg_bytes(size=(48, 64), color=(20, 40, 220)))
    browser.find("#photo-input").send_keys(str(photo))
    browser.wait(lambda d: "Like your photo" in browser.find("#results-title").text)
    browser.wait(lambda d: browser.find_all("#products .card"))
    assert browser.find_all("#products .card")[0].get_attribute("data-sku").endswith("BLU")
    browser.screenshot("photo-search")

    # open a product (the click is reported for click-through), see its similar items, open one of them
    first = browser.find_all("#products .card")[0].get_attribute("data-sku")
    browser.find_all("#products .card")[0].click()
    browser.wait(lambda d: "/products/" in d.current_url)
    browser.wait(lambda d: SearchEvent.objects.filter(type="click", sku=first, position=1).exists())
    browser.wait(lambda d: browser.find("#product-name").text not in ("", "Loading…"))
    similar = browser.wait(lambda d: browser.find_all("#similar .card"), message="similar items")
    current = browser.find("#product").get_attribute("data-sku")
    assert current not in [card.get_attribute("data-sku") for card in similar]
    browser.screenshot("product")
    target = similar[0].get_attribute("data-sku")
    similar[0].click()
    browser.wait(lambda d: browser.find("#product").get_attribute("data-sku") == target)
    browser.wait(lambda d: browser.find_all("#similar .card"))
    browser.screenshot("similar-product")
