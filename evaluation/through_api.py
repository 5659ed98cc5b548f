"""Evaluation through the storefront HTTP API (Django's test client, in process): what a shop's users get."""

from __future__ import annotations

from .evalfiles import EvalQuery
from .metrics import Figures, summarize


def api_client():
    from django.test import Client

    return Client(HTTP_HOST="localhost")


def _skus(response) -> list[str]:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}: {response.content[:300]}")
    return [item["sku"] for item in response.json()["results"]]


def rank_text(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    return _skus(client.get("/api/v1/search", {"q": query.text, "page_size": 10, **(params or {})}))


def rank_photo(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    fields = {"page_size": 10, **(params or {})}
    if query.text:
        fields["q"] = query.text
    with open(query.image, "rb") as photo:
        return _skus(client.post("/api/v1/search/image?" + "&".join(f"{k}={v}" for k, v in fields.items()),
                                 {"image": photo}))  # fmt: skip


def rank_similar(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    return _skus(client.get(f"/api/v1/products/{query.sku}/similar", {"k": 10, **(params or {})}))


RANKERS = {"text": rank_text, "photo": rank_photo, "similar": rank_similar}


def evaluate(client, queries: list[EvalQuery], params: dict | None = None) -> Figures:
    rankings = [RANKERS[q.kind](client, q, params) for q in queries]
    return summarize(rankings, [q.relevant for q in queries])
