"""Ranking metrics of the evaluation format (docs/catalog-format.md): NDCG@10 with graded gain and log2
discount, Recall@10 over min(#relevant, 10), MRR of the first relevant result (within the first 10), precision@5;
and the whole result set's (every page's) precision, recall and F1 against the relevant products, and for queries
whose relevant set is empty (nonsense, products the shop does not sell) the share that found nothing."""

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


def match_set_scores(members: Sequence[str], relevant: Mapping[str, float]) -> tuple[float, float, float]:
    """(precision, recall, F1) of a whole result set against the relevant products (grade > 0). An empty set
    is precise (it claims nothing) and recalls nothing."""
    wanted = {sku for sku, grade in relevant.items() if grade > 0}
    found = set(members)
    hits = len(found & wanted)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(wanted) if wanted else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


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
    match_precision: float = 0.0  # the whole result set, every page (mean over the queries)
    match_recall: float = 0.0
    match_f1: float = 0.0
    zero_result_rate: float = 0.0  # queries with no relevant product: share that found nothing
    queries: int = 0
    absent_queries: int = 0  # queries with an empty relevant set

    def __str__(self) -> str:
        text = (
            f"NDCG@10 {self.ndcg10:.3f}  R@1 {self.recall1:.3f}  R@10 {self.recall10:.3f}  MRR {self.mrr:.3f}  "
            f"P@5 {self.precision5:.3f}  set P {self.match_precision:.3f} R {self.match_recall:.3f} "
            f"F1 {self.match_f1:.3f}  ({self.queries} queries)"
        )
        if self.absent_queries:
            text += f"  zero-result {self.zero_result_rate:.3f} ({self.absent_queries} absent-product queries)"
        return text


def _judged(relevant: Mapping[str, float]) -> bool:
    """Whether a query has a relevant product (grade > 0); without one it should find nothing."""
    return any(grade > 0 for grade in relevant.values())


def summarize(
    rankings: Sequence[Sequence[str]],
    relevants: Sequence[Mapping[str, float]],
    sets: Sequence[Sequence[str]] | None = None,
) -> Figures:
    """Mean NDCG@10, R@1, R@10, MRR, P@5 of ranked sku lists and whole-set precision, recall and F1 of the result
    sets (``sets``; by default the rankings are the whole result sets) against their graded relevance; queries
    with an empty relevant set count only towards the zero-result rate (of their result sets)."""
    sets = rankings if sets is None else sets
    everything = list(zip(rankings, relevants, sets, strict=True))
    pairs = [(ranked, relevant) for ranked, relevant, _found in everything if _judged(relevant)]
    found_sets = [(found, relevant) for _ranked, relevant, found in everything if _judged(relevant)]
    absent = [found for _ranked, relevant, found in everything if not _judged(relevant)]
    figures = Figures(absent_queries=len(absent), queries=len(pairs))
    if absent:
        figures.zero_result_rate = sum(1 for ranked in absent if not ranked) / len(absent)
    if not pairs:
        return figures

    def mean(metric) -> float:
        return sum(metric(ranked, relevant) for ranked, relevant in pairs) / len(pairs)

    scores = [match_set_scores(found, relevant) for found, relevant in found_sets]
    figures.ndcg10 = mean(ndcg_at)
    figures.recall1 = mean(lambda r, rel: recall_at(r, rel, 1))
    figures.recall10 = mean(recall_at)
    figures.mrr = mean(lambda r, rel: reciprocal_rank(r[:10], rel))
    figures.precision5 = mean(precision_at)
    figures.match_precision, figures.match_recall, figures.match_f1 = (
        sum(score[i] for score in scores) / len(scores) for i in range(3)
    )
    return figures
