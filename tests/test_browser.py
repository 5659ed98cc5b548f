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


# --- autocomplete -----------------------------------------------------------------------------------------------


def _popular_queries(*pairs: tuple[str, int]) -> None:
    """Search log rows (each query searched ``count`` times, with results), counted for autocomplete."""
    from search.suggest import query_suggestions_refresh

    now = timezone.now()
    for query, count in pairs:
        for n in range(count):
            SearchLog.objects.create(kind="text", query=query, normalized_query=query, result_count=4,
                                     latency_ms=8.0, created_at=now - timedelta(minutes=n + 1))  # fmt: skip
    query_suggestions_refresh()


def test_the_search_box_suggests_as_the_shopper_types(browser, catalog_dir):
    from selenium.webdriver.common.keys import Keys

    small_shop(catalog_dir, generation=False)  # keyword search is enough here
    _popular_queries(("red tent", 3))
    browser.open("/")
    browser.wait(lambda d: len(browser.find_all("#products .card")) == 16, message="the catalog is browsable")
    box = browser.find("#search-input")
    open_items = "#suggest:not([hidden]) [role=option]"

    def shown() -> list[str]:  # the completions' texts
        return [item.text for item in browser.find_all("#suggest:not([hidden]) .suggest-item .suggest-text")]

    # typing shows completions and products (debounced: one request once the typing pauses)
    box.send_keys("hoo")
    browser.wait(lambda d: len(browser.find_all("#suggest:not([hidden]) .suggest-product")) == 4, message="products")
    assert "hoodie" in shown() and "Hoodies" in shown()
    assert all("hoodie" in p.text.lower() for p in browser.find_all("#suggest .suggest-product"))
    assert box.get_attribute("aria-expanded") == "true"
    browser.screenshot("typing")

    # up and down move through them (wrapping), Escape closes
    box.send_keys(Keys.ARROW_DOWN)
    first = browser.find_all(open_items)[0]
    assert "active" in first.get_attribute("class")
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    box.send_keys(Keys.ARROW_DOWN)
    assert "active" in browser.find_all(open_items)[1].get_attribute("class")
    box.send_keys(Keys.ARROW_UP, Keys.ARROW_UP)
    assert "active" in browser.find_all(open_items)[-1].get_attribute("class")  # wrapped to the last product
    browser.screenshot("keyboard")
    box.send_keys(Keys.ESCAPE)
    browser.wait(lambda d: not browser.find_all(open_items), message="Escape closes the suggestions")

    # a typo still finds it; Enter on a highlighted completion runs its search
    box.clear()
    box.send_keys("hodie")
    browser.wait(lambda d: "hoodie" in shown(), message="typo-tolerant completion")
    items = browser.find_all(open_items)
    index = next(i for i, item in enumerate(items) if item.get_attribute("data-kind") == "word"
                 and item.find_element("css selector", ".suggest-text").text == "hoodie")  # fmt: skip
    for _ in range(index + 1):
        box.send_keys(Keys.ARROW_DOWN)
    box.send_keys(Keys.ENTER)
    browser.wait(lambda d: "“hoodie”" in browser.find("#results-title").text, message="the completion's search ran")
    assert "q=hoodie" in browser.driver.current_url and not browser.find_all(open_items)
    browser.wait(lambda d: browser.find_all("#products .card"))
    assert all(card.get_attribute("data-sku").startswith("HOO") for card in browser.find_all("#products .card"))
    browser.screenshot("completion-searched")

    # a click on a popular query runs it
    box.clear()
    box.send_keys("red t")
    query = browser.wait(lambda d: [i for i in browser.find_all(open_items) if i.get_attribute("data-kind") == "query"],
                         message="the popular query")[0]  # fmt: skip
    assert query.find_element("css selector", ".suggest-text").text == "red tent"
    browser.screenshot("popular-query")
    query.click()
    browser.wait(lambda d: "“red tent”" in browser.find("#results-title").text, message="the popular query ran")

    # a product goes to its page
    box.clear()
    box.send_keys("blue hoo")
    product = browser.wait(lambda d: browser.find_all('#suggest:not([hidden]) .suggest-product[data-sku="HOO-BLU"]'),
                           message="the blue hoodie")[0]  # fmt: skip
    product.click()
    browser.wait(lambda d: "/products/HOO-BLU/" in d.current_url)
    browser.wait(lambda d: browser.find("#product-name").text == "Blue hoodie")
    browser.screenshot("product")


def test_staff_see_the_popular_queries_suggested_and_hide_one(browser, staff_user, catalog_dir):
    small_shop(catalog_dir, generation=False)
    now = timezone.now()
    for minutes, (query, results) in enumerate([("red tent", 4)] * 3 + [("blue kayak", 0)] * 2 + [("tent", 4)] * 2):
        SearchLog.objects.create(kind="text", query=query, normalized_query=query, result_count=results,
                                 latency_ms=8.0, created_at=now - timedelta(minutes=minutes + 1))  # fmt: skip
    browser.log_in("operator", STAFF_PASSWORD)
    browser.find("#dashboard-links a[href='/admin/suggestions/']").click()
    assert "No searches counted yet" in browser.wait_for("#popular-queries").text

    browser.find("#refresh-button").click()
    rows = {row.get_attribute("data-query"): row.text for row in browser.wait(
        lambda d: browser.find_all("#popular-queries tr[data-query]"), message="the counted queries")}  # fmt: skip
    assert "offered" in rows["red tent"] and " 3 " in f" {rows['red tent']} "
    assert "no results" in rows["blue kayak"]
    assert "recounted" in browser.find(".messagelist").text.lower()
    browser.screenshot("popular-queries")

    browser.find("#id_q").send_keys("re")
    browser.find("#preview-button").click()
    preview = browser.wait_for("#preview")
    assert "red tent" in preview.text and browser.find_all("#preview tr[data-sku]")
    browser.screenshot("preview")

    browser.find('#popular-queries tr[data-query="red tent"] input[type=submit]').click()
    browser.wait(lambda d: "hidden" in browser.find('#popular-queries tr[data-query="red tent"]').text)
    browser.find("#id_q").send_keys("re")
    browser.find("#preview-button").click()
    browser.wait(lambda d: "red tent" not in browser.find("#preview").text, message="the hidden query is not offered")
    browser.screenshot("hidden")


# --- merchandising --------------------------------------------------------------------------------------------------


def test_a_shopper_sorts_by_price_and_a_redirect_rule_takes_them_to_its_page(browser, catalog_dir):
    from decimal import Decimal

    from catalog.models import Product
    from search.documents import search_documents_update
    from search.merchandising import merchandising_changed
    from search.models import QueryRule

    small_shop(catalog_dir)
    for n, product in enumerate(Product.objects.order_by("sku")):
        Product.objects.filter(pk=product.pk).update(price=Decimal(10 + (n * 37) % 90))
    search_documents_update()
    browser.open("/?category=Outdoor")
    browser.wait(lambda d: len(browser.find_all("#products .card")) == 16)
    from selenium.webdriver.support.ui import Select

    Select(browser.find("#sort-select")).select_by_value("price_desc")
    browser.wait(lambda d: "sort=price_desc" in d.current_url)
    expected = list(Product.objects.order_by("-price", "id").values_list("sku", flat=True)[:16])
    browser.wait(lambda d: [c.get_attribute("data-sku") for c in browser.find_all("#products .card")] == expected,
                 message="cards in price order")  # fmt: skip
    browser.screenshot("sorted-by-price")

    QueryRule.objects.create(name="help", match="equals", pattern="help", redirect_url=browser.base_url + "/healthz")
    merchandising_changed()
    browser.open("/?q=help")
    browser.wait(lambda d: d.current_url.endswith("/healthz"), message="the rule's redirect was followed")


def test_staff_write_a_rule_and_a_synonym_in_the_admin_and_preview_the_rule(browser, staff_user, catalog_dir):
    from search.models import QueryRule, SynonymSet

    small_shop(catalog_dir)
    browser.log_in("operator", STAFF_PASSWORD)
    browser.open("/admin/search/synonymset/add/")
    browser.find("#id_terms").send_keys("tent,shelter")
    browser.find("input[name=_save]").click()
    browser.wait_for("#result_list")
    assert SynonymSet.objects.get().terms == ["tent", "shelter"]
    browser.screenshot("synonyms")

    browser.open("/admin/search/queryrule/add/")
    browser.find("#id_name").send_keys("bottles on tents")
    browser.find("#id_enabled").click()  # saved disabled: previewed before it goes live
    browser.find("#id_pattern").send_keys("tent")
    pins = browser.find("#id_pins")
    pins.clear()
    pins.send_keys('[{"sku": "BOT-BLU", "position": 1}]')
    browser.find("input[name=_save]").click()
    browser.wait_for("#result_list")
    rule = QueryRule.objects.get()
    assert rule.enabled is False and rule.pins == [{"sku": "BOT-BLU", "position": 1}]
    browser.screenshot("rules")

    browser.find("#result_list a[href*='playground']").click()
    browser.wait_for("#rules-after")
    after = [row.get_attribute("data-sku") for row in browser.find_all("#rules-after tbody tr")]
    before = [row.get_attribute("data-sku") for row in browser.find_all("#rules-before tbody tr")]
    assert after[0] == "BOT-BLU" and "BOT-BLU" not in before and before[0].startswith("TEN")
    browser.screenshot("rule-preview")


# --- facet setup ----------------------------------------------------------------------------------------------------


def test_a_merchandiser_makes_an_attribute_a_facet_and_shoppers_see_its_label(browser, staff_user, catalog_dir):
    photo = catalog_dir.add_photo("jacket.jpg")
    for sku, name, material, colour in [("J1", "Storm jacket", "Nylon", "Black"), ("J2", "Rain jacket", "Polyester",
                                         "Blue"), ("J3", "Wool jacket", "Wool", "Red")]:  # fmt: skip
        catalog_dir.add_product(sku=sku, name=f"{name} EverCool&trade;", categories=["Outdoor/Jackets"], price="80",
                                images=[photo], attributes={"color": colour, "material": material,
                                                            "eco_collection": "Yes"})  # fmt: skip
    catalog_import(path=catalog_dir.write())
    browser.log_in("operator", STAFF_PASSWORD)
    browser.find("a[href$='/admin/facet-setup/']").click()
    table = browser.wait_for("#facet-setup")
    assert "eco_collection" in table.text and "Nylon" in table.text
    browser.screenshot("facet-setup")

    # the merchandiser makes material a facet called "Fabric", shown first
    row = "#facet-setup tr[data-name=material] "
    label = browser.find(row + "input[name$='-label']")
    label.clear()
    label.send_keys("Fabric")
    position = browser.find(row + "input[name$='-position']")
    position.clear()
    position.send_keys("5")
    browser.find(row + "input[name$='-facet']").click()
    browser.find("#facet-setup-save").click()
    browser.wait(lambda d: "Facet setup saved" in browser.find("body").text, message="saved")
    assert browser.find("#refresh-state").text == "done"
    browser.screenshot("facet-setup-saved")

    # shoppers see it, labelled, before the other facets, and clean names
    browser.open("/?q=jacket")
    title = browser.wait_for(".facet[data-facet=material] h3")
    assert title.get_attribute("textContent") == "Fabric"  # shown in capitals by the style sheet
    assert browser.find_all(".facet")[0].get_attribute("data-facet") == "material"
    assert "EverCool™" in browser.find(".card-name").text
    browser.find(".facet[data-facet=material] a").click()
    browser.wait(lambda d: browser.find_all(".chip[data-filter=material]"), message="filter chip")
    assert browser.find(".chip[data-filter=material]").get_attribute("textContent").startswith("Fabric:")
    browser.screenshot("storefront-facet")

    # and the product page shows the labels, not the keys
    browser.open("/products/J1/")
    browser.wait(lambda d: browser.find_all("#product-attributes dt"), message="attributes")
    labels = [dt.get_attribute("textContent") for dt in browser.find_all("#product-attributes dt")]
    assert labels[0] == "Fabric" and "Eco collection" in labels and "eco_collection" not in labels
    browser.screenshot("product-labels")
