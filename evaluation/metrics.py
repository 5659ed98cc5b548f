"""Ranking metrics of the evaluation format (docs/catalog-format.md): NDCG@10 with graded gain and log2
discount, Recall@10 over min(#relevant, 10), MRR of the first relevant result, precision@5."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


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
