"""Evaluation through the storefront HTTP API (Django's test client, in process): what a shop's users get.

Text and photo searches are read page after page to the end (``total``), so the whole result set is measured
(its precision, recall and F1, and "no results"), not only the first page; similar items are one list of 10.
"""

from __future__ import annotations

from django.conf import settings

from .evalfiles import EvalQuery
from .metrics import Figures, summarize


def api_client():
    from django.test import Client

    return Client(HTTP_HOST="localhost")


def _page(response) -> tuple[list[str], int]:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}: {response.content[:300]}")
    body = response.json()
    return [item["sku"] for item in body["results"]], body.get("total", len(body["results"]))


def _every_page(fetch) -> list[str]:
    """Every result, page after page, until ``total`` (or the last page the API serves)."""
    size = settings.SEARCH_MAX_PAGE_SIZE
    skus: list[str] = []
    for page in range(1, settings.SEARCH_MAX_PAGE + 1):
        found, total = fetch({"page": page, "page_size": size})
        skus += found
        if len(found) < size or len(skus) >= total:
            break
    return skus


def rank_text(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    return _every_page(
        lambda paging: _page(client.get("/api/v1/search", {"q": query.text, **paging, **(params or {})}))
    )


def rank_photo(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    def fetch(paging: dict) -> tuple[list[str], int]:
        fields = {**paging, **(params or {})}
        if query.text:
            fields["q"] = query.text
        with open(query.image, "rb") as photo:
            return _page(client.post("/api/v1/search/image?" + "&".join(f"{k}={v}" for k, v in fields.items()),
                                     {"image": photo}))  # fmt: skip

    return _every_page(fetch)


def rank_similar(client, query: EvalQuery, params: dict | None = None) -> list[str]:
    return _page(client.get(f"/api/v1/products/{query.sku}/similar", {"k": 10, **(params or {})}))[0]


RANKERS = {"text": rank_text, "photo": rank_photo, "similar": rank_similar}


def evaluate(client, queries: list[EvalQuery], params: dict | None = None) -> Figures:
    rankings = [RANKERS[q.kind](client, q, params) for q in queries]
    return summarize(rankings, [q.relevant for q in queries])
