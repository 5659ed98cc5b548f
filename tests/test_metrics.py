"""Ranking metrics against values computed by hand."""

import math

import pytest

from evaluation.metrics import ndcg_at, precision_at, recall_at, reciprocal_rank, summarize


def test_ndcg_with_graded_gains_and_log2_discount():
    relevant = {"A": 2, "B": 1}
    # B at rank 1, A at rank 3: DCG = 1/log2(2) + 2/log2(4) = 2; ideal = 2/log2(2) + 1/log2(3)
    assert ndcg_at(["B", "X", "A"], relevant) == pytest.approx(2 / (2 + 1 / math.log2(3)))
    assert ndcg_at(["A", "B"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["X", "Y"], relevant) == 0.0


def test_recall_mrr_and_precision():
    relevant = {"A": 1, "B": 1, "C": 0}
    assert recall_at(["X", "A", "C"], relevant, 10) == 0.5  # C has grade 0: not relevant
    assert recall_at(["B"], relevant, 1) == 1.0  # over min(#relevant, k)
    assert reciprocal_rank(["X", "Y", "B"], relevant) == pytest.approx(1 / 3)
    assert precision_at(["A", "X", "B", "Y", "Z"], relevant, 5) == pytest.approx(0.4)


def test_summarize_means_over_queries():
    figures = summarize([["A"], ["X", "B"]], [{"A": 1}, {"B": 1}])
    assert (figures.recall1, figures.recall10, figures.mrr, figures.queries) == (0.5, 1.0, 0.75, 2)
