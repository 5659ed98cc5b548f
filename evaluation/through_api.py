"""Evaluation through the storefront HTTP API (Django's test client, in process): what a shop's users get."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evalfiles import EvalQuery
from .metrics import ndcg_at, precision_at, recall_at, reciprocal_rank


@dataclass
class ApiFigures:
    ndcg10: float
    recall1: float
    recall10: float
    mrr: float
    precision5: float
    queries: int

    def __str__(self) -> str:
        return (
            f"NDCG@10 {self.ndcg10:.3f}  R@1 {self.recall1:.3f}  R@10 {self.recall10:.3f}  MRR {self.mrr:.3f}  "
            f"P@5 {self.precision5:.3f}  ({self.queries} queries)"
        )


def summarize(rankings: list[list[str]], queries: list[EvalQuery]) -> ApiFigures:
    pairs = list(zip(rankings, queries, strict=True))
    return ApiFigures(
        ndcg10=float(np.mean([ndcg_at(r, q.relevant) for r, q in pairs])),
        recall1=float(np.mean([recall_at(r, q.relevant, 1) for r, q in pairs])),
        recall10=float(np.mean([recall_at(r, q.relevant, 10) for r, q in pairs])),
        mrr=float(np.mean([reciprocal_rank(r, q.relevant) for r, q in pairs])),
        precision5=float(np.mean([precision_at(r, q.relevant, 5) for r, q in pairs])),
        queries=len(pairs),
    )


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


def evaluate(client, queries: list[EvalQuery], params: dict | None = None) -> ApiFigures:
    rankings = [RANKERS[q.kind](client, q, params) for q in queries]
    return summarize(rankings, queries)
