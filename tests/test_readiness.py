"""Ready means fast: a process warms its models up before its first request, and /readyz says when it has."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from PIL import Image

from catalog.services import catalog_import
from embeddings.models import EmbeddingGeneration
from embeddings.queries import photo_query, query_text_vectors
from embeddings.services.generations import generation_create
from search.documents import search_documents_update
from shop_search import readiness

from .conftest import build_generation, jpeg_bytes, write_small_catalog

pytestmark = pytest.mark.django_db


def forget_models() -> None:
    """Drop this process's loaded models and encoded queries, as in a process that has just started."""
    from embeddings import queries
    from embeddings.neural import encoders
    from embeddings.services import embedding

    for cache in (encoders._load, encoders._query_encoder, embedding.load_head, queries.query_text_vectors):
        cache.cache_clear()


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Every test starts as a process that has not warmed up and has no model loaded."""
    monkeypatch.setattr(readiness, "_state", readiness.Readiness())
    forget_models()


@pytest.fixture
def small_shop(catalog_dir):
    """16 products with photos and an active generation (tiny encoders from the test settings)."""
    catalog_import(path=write_small_catalog(catalog_dir))
    search_documents_update()
    return build_generation()


def search_both_ways(api) -> None:
    response = api.get("/api/v1/search", {"q": "red jacket"})
    assert response.status_code == 200, response.content
    assert response.json()["results"]
    response = api.post("/api/v1/search/image", {"image": _upload()})
    assert response.status_code == 200, response.content


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("query.jpg", jpeg_bytes(size=(48, 64), color=(220, 20, 20)), content_type="image/jpeg")


def test_a_cold_process_loads_its_models_on_the_first_search(small_shop, api):
    # given a process that has not warmed up
    forget_models()
    before = readiness.models_loaded()

    # when a shopper searches by text and by photo
    search_both_ways(api)

    # then the requests paid for loading the models (what the warm-up moves out of the request path)
    assert readiness.models_loaded() > before


def test_after_warm_up_a_search_loads_no_model(small_shop, api):
    # given a process that has warmed up
    forget_models()
    state = readiness.warm_up()
    assert state.ready, state
    assert state.generation == small_shop.pk
    assert state.detail == f"generation {small_shop.pk} warm"
    loaded = readiness.models_loaded()
    assert loaded > 0  # the encoders and the head were loaded by the warm-up

    # when a shopper searches by text and by photo
    search_both_ways(api)

    # then no model was loaded during the requests
    assert readiness.models_loaded() == loaded


def test_readyz_answers_503_before_warm_up_and_200_after(small_shop, api):
    # given a process that has not warmed up
    response = api.get("/readyz")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert "warm-up has not run" in response.json()["reason"]

    # when it warms up
    readiness.warm_up()

    # then it is ready, and says with which generation and how long it took
    response = api.get("/readyz")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ready"] is True
    assert body["generation"] == small_shop.pk
    assert body["seconds"] >= 0
    assert body["database"] == "ok"
    assert "reason" not in body


def test_liveness_does_not_wait_for_the_warm_up(api):
    assert api.get("/healthz").status_code == 200
    assert api.get("/readyz").status_code == 503


def test_warm_up_without_a_generation_is_ready_for_keyword_search(api):
    # given no active generation
    assert not EmbeddingGeneration.objects.filter(state="active").exists()

    # when the process warms up
    state = readiness.warm_up()

    # then it is ready, without loading any model
    assert state.ready
    assert state.detail == readiness.NO_GENERATION
    assert state.generation is None
    assert readiness.models_loaded() == 0
    assert api.get("/readyz").status_code == 200


def test_a_database_outage_leaves_the_process_up_and_not_ready(api, monkeypatch):
    # given a database that does not answer the warm-up
    def refused():
        raise OperationalError("connection refused")

    monkeypatch.setattr("embeddings.selectors.active_generation", refused)

    # when the process warms up
    state = readiness.warm_up()

    # then the attempt failed without raising, and /readyz says why
    assert not state.ready
    assert state.state == "failed"
    assert state.error == "OperationalError: connection refused"
    response = api.get("/readyz")
    assert response.status_code == 503
    assert "OperationalError: connection refused" in response.json()["reason"]


def test_a_generation_being_built_is_warm_before_it_is_activated(small_shop):
    # given a warm process, and a new generation being built with another head
    readiness.warm_up()
    building = generation_create(train=True)
    assert building.state == EmbeddingGeneration.State.BUILDING
    assert building.head_id != small_shop.head_id

    # when the process looks at the live generations
    warmed = readiness.generations_warm()

    # then the new generation's models are loaded now, not by the first search after the switch
    assert warmed == [building.pk]
    loaded = readiness.models_loaded()
    query_text_vectors(building, "blue tent")
    photo_query(building, Image.new("RGB", (32, 32), (20, 40, 220)))
    assert readiness.models_loaded() == loaded
    assert readiness.generations_warm() == []  # already warm: nothing to do at the next look


def test_a_failed_warm_up_is_retried_in_the_background_until_it_succeeds(monkeypatch, caplog):
    # given a database that refuses the first two attempts
    from embeddings import selectors

    answers = iter([OperationalError("connection refused"), OperationalError("connection refused")])

    def flaky():
        error = next(answers, None)
        if error is not None:
            raise error
        return None  # then answers: no generation yet

    monkeypatch.setattr(selectors, "active_generation", flaky)
    monkeypatch.setattr(readiness, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(readiness, "_runner", None)

    # when the process starts its warm-up thread (as a Celery pool process does)
    readiness.warm_up_start(watch=False)
    assert readiness.warm_up_wait(10)
    readiness._runner[1].join(10)

    # then the first attempt's failure was reported, and the thread kept trying until the process was ready
    messages = [record.getMessage() for record in caplog.records if record.name == "shop_search.readiness"]
    failures = [message for message in messages if "failed" in message]
    assert len(failures) == 2
    assert "OperationalError: connection refused" in failures[0]
    state = readiness.readiness()
    assert state.ready
    assert state.attempts == 3
    assert state.detail == readiness.NO_GENERATION
