"""Ranking metrics of the evaluation format (docs/catalog-format.md): NDCG@10 with graded gain and log2
discount, Recall@10 over min(#relevant, 10), MRR of the first relevant result, precision@5."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    dcg = sum(relevant.get(sku, 0) / math.log2(i + 2) for i, sku in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 10) -> float:
    wanted = {sku for sku, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / min(len(wanted), k)


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, float]) -> float:
    for i, sku in enumerate(ranked):
        if relevant.get(sku, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def precision_at(ranked: Sequence[str], relevant: Mapping[str, float], k: int = 5) -> float:
    return sum(1 for sku in ranked[:k] if relevant.get(sku, 0) > 0) / k


@dataclass
class Figures:
    """Mean metrics of a set of queries."""

    ndcg10: float = 0.0
    recall1: float = 0.0
    recall10: float = 0.0
    mrr: float = 0.0
    precision5: float = 0.0
    queries: int = 0

    def __str__(self) -> str:
        return (
            f"NDCG@10 {self.ndcg10:.3f}  R@1 {self.recall1:.3f}  R@10 {self.recall10:.3f}  MRR {self.mrr:.3f}  "
            f"P@5 {self.precision5:.3f}  ({self.queries} queries)"
        )


def summarize(rankings: Sequence[Sequence[str]], relevants: Sequence[Mapping[str, float]]) -> Figures:
    """Mean NDCG@10, R@1, R@10, MRR and P@5 of ranked sku lists against their graded relevance."""
    pairs = list(zip(rankings, relevants, strict=True))
    if not pairs:
        return Figures()

    def mean(metric) -> float:
        return sum(metric(ranked, relevant) for ranked, relevant in pairs) / len(pairs)

    return Figures(
        ndcg10=mean(ndcg_at),
        recall1=mean(lambda r, rel: recall_at(r, rel, 1)),
        recall10=mean(recall_at),
        mrr=mean(reciprocal_rank),
        precision5=mean(precision_at),
        queries=len(pairs),
    )
