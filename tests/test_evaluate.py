"""``manage.py evaluate``: per-mode figures on a hand-made catalog whose rankings are known, JSON and table output,
CI gates and their exit codes, fusion tuning and storing the tuned fusion in a new generation."""

import io
import json
import math

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connections

from embeddings.models import EmbeddingGeneration, ImageEmbedding, ProductEmbedding
from evaluation.evalfiles import EvalQuery
from evaluation.report import Gate, GateSyntaxError, gate_parse
from evaluation.tuning import fusion_grid, holdout_split
from search.ranking import FusionConfig
from search.selectors import search_products
from search.types import SearchQuery

from .test_search import lantern_catalog

pytestmark = pytest.mark.django_db

# Hand-computed: relevance B=2, C=1, so the ideal DCG is 2/log2(2) + 1/log2(3).
IDCG = 2 + 1 / math.log2(3)
# full text finds only C (the one "lantern"); the text vector ranks A (cosine 1.0), B (0.8), C (0), and its
# result set is A and B, above its threshold (0.5); both joint-space signals find B (1.0), A (0.8), C (0.6); the
# weighted hybrid (see tiny_shop) ranks B, A, C. Each mode's whole result set against the relevant {B, C}:
# precision, recall, F1.
ALL = {"match_precision": 2 / 3, "match_recall": 1.0, "match_f1": 0.8, "zero_result_rate": None}
EXPECTED = {
    "fulltext": {"ndcg10": 1 / IDCG, "recall10": 0.5, "mrr": 1.0, "match_precision": 1.0, "match_recall": 0.5,
                 "match_f1": 2 / 3, "zero_result_rate": None},
    "text_vector": {"ndcg10": (2 / math.log2(3) + 1 / math.log2(4)) / IDCG, "recall10": 1.0, "mrr": 0.5,
                    "match_precision": 0.5, "match_recall": 0.5, "match_f1": 0.5, "zero_result_rate": None},
    "cross_modal": {"ndcg10": (2 + 1 / math.log2(4)) / IDCG, "recall10": 1.0, "mrr": 1.0, **ALL},
    "fused": {"ndcg10": (2 + 1 / math.log2(4)) / IDCG, "recall10": 1.0, "mrr": 1.0, **ALL},
    "hybrid": {"ndcg10": (2 + 1 / math.log2(4)) / IDCG, "recall10": 1.0, "mrr": 1.0, **ALL},
}  # fmt: skip


@pytest.fixture
def tiny_shop(monkeypatch, settings):
    """Products A, B, C with known 2-d vectors; only C's name says "lantern" (``lantern_catalog``)."""
    settings.SEARCH_FUSION = "weighted"
    settings.SEARCH_SIGNAL_WEIGHTS = {"fulltext": 1.0, "text_vector": 1.0, "cross_modal": 0.5, "fused": 1.0,
                                      "image": 1.0}  # fmt: skip
    # absolute scales of the vector signals: 0 at cosine 0.2, 1 at 1.0; matches from 0.5
    # weighted hybrid: A = 1 + 0.5 * 0.75 + 0.75 = 2.125, B = 0.75 + 0.5 * 1 + 1 = 2.25,
    # C = 1 (full text) + 0 + 0.5 * 0.5 + 0.5 = 1.75 -> B, A, C
    generation = lantern_catalog(monkeypatch)
    scale = {"floor": 0.2, "threshold": 0.5, "typical": 1.0}
    generation.relevance = {"signals": {f"text:{s}": scale for s in ("text_vector", "cross_modal", "fused")}}
    generation.save(update_fields=["relevance"])
    return generation


def eval_file(tmp_path, name: str, lines: list[dict]):
    path = tmp_path / "eval" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.fixture
def text_file(tmp_path):
    return eval_file(tmp_path, "text.jsonl", [{"query": "lantern", "relevant": {"B": 2, "C": 1}}])


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_every_mode_on_a_tiny_catalog_with_known_rankings(tiny_shop, text_file):
    out, _ = run(text_file, "--json")
    report = json.loads(out)

    assert report["generation"] == tiny_shop.pk and report["products"] == 3
    [group] = report["files"]
    assert (group["file"], group["kind"], group["queries"], group["problems"]) == (str(text_file), "text", 1, [])
    assert list(group["modes"]) == ["fulltext", "text_vector", "cross_modal", "fused", "hybrid"]
    for mode, figures in EXPECTED.items():
        assert group["modes"][mode] == pytest.approx(figures, abs=1e-4), mode


def test_the_hybrid_mode_ranks_like_the_storefront_search(tiny_shop):
    from evaluation.modes import hybrid_ids, mode_fusion, prepare

    prepared = prepare(tiny_shop, EvalQuery("text", {"B": 1}, text="lantern"))
    result = search_products(SearchQuery(text="lantern", page_size=10), tiny_shop)

    assert hybrid_ids(prepared, tiny_shop, mode_fusion("hybrid", tiny_shop)) == [r.product_id for r in result.ranking]
    assert result.total == 3


def test_table_output_and_similar_items_precision(tiny_shop, text_file, tmp_path):
    # A's nearest product in every space is B; precision@5 divides by 5 whatever comes back
    similar = eval_file(tmp_path, "similar.jsonl", [{"sku": "A", "relevant": {"B": 1}}])

    out, _ = run(text_file, similar)

    rows = {tuple(line.split()[:2] + [" ".join(line.split()[3:-9])]): line.split()[-9:] for line in
            out.splitlines()[3:]}  # fmt: skip
    # NDCG@10, R@1 (photo queries only), R@10, MRR, P@5, then the whole set's precision, recall, F1, and the
    # zero-result rate
    assert rows[(str(text_file), "text", "full-text only")] == ["0.380", "-", "0.500", "1.000", "-", "1.000",
                                                                "0.500", "0.667", "-"]  # fmt: skip
    assert rows[(str(text_file), "text", "production hybrid")] == ["0.950", "-", "1.000", "1.000", "-", "0.667",
                                                                   "1.000", "0.800", "-"]  # fmt: skip
    assert rows[(str(similar), "similar", "production hybrid")] == ["1.000", "-", "1.000", "1.000", "0.200"] + ["-"] * 4
    assert rows[(str(similar), "similar", "image vector only")] == ["1.000", "-", "1.000", "1.000", "0.200"] + ["-"] * 4
    assert out.splitlines()[0] == f"generation {tiny_shop.pk}, 3 products"


def test_absent_product_queries_give_a_zero_result_rate(tiny_shop, tmp_path):
    # "lantern" finds three products; a nonsense string finds none (no word matches, no vector clears 0.5)
    tiny_shop.relevance["signals"]["text:text_vector"]["threshold"] = 1.01  # A's and B's text cosines are 1, 0.8
    tiny_shop.relevance["signals"]["text:fused"]["threshold"] = 1.01
    tiny_shop.relevance["signals"]["text:cross_modal"]["threshold"] = 1.01
    tiny_shop.save(update_fields=["relevance"])
    path = eval_file(tmp_path, "absent.jsonl", [{"query": "zzzzqqq", "relevant": {}},
                                                {"query": "lantern", "relevant": {}}])  # fmt: skip

    [group] = json.loads(run(path, "--json")[0])["files"]

    hybrid = group["modes"]["hybrid"]
    assert hybrid["zero_result_rate"] == 0.5  # "lantern" finds C by its name
    assert hybrid["ndcg10"] is None and hybrid["match_f1"] is None  # nothing to rank against
    assert group["modes"]["text_vector"]["zero_result_rate"] == 1.0


def test_unknown_skus_and_missing_photos_count_as_finding_nothing(tiny_shop, tmp_path):
    path = eval_file(tmp_path, "mixed.jsonl", [
        {"sku": "NOPE", "relevant": {"B": 1}},
        {"image": "images/missing.jpg", "relevant": {"A": 1}},
    ])  # fmt: skip

    report = json.loads(run(path, "--json")[0])

    kinds = {group["kind"]: group for group in report["files"]}
    assert kinds["similar"]["modes"]["hybrid"]["precision5"] == 0.0
    assert "unknown sku 'NOPE'" in kinds["similar"]["problems"][0]
    assert kinds["photo"]["modes"]["hybrid"]["ndcg10"] == 0.0 and len(kinds["photo"]["problems"]) == 1


def test_fail_below_exit_codes(tiny_shop, text_file, monkeypatch, capsys):
    # run_from_argv closes the connections when it is done: keep the test's transaction open
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def exit_code(*gates) -> int:
        args = ["manage.py", "evaluate", str(text_file)] + [f"--fail-below={gate}" for gate in gates]
        try:
            ManagementUtility(args).execute()
        except SystemExit as exc:
            return exc.code
        return 0

    assert exit_code("ndcg@10=0.95", "fulltext:mrr=1", "text_vector:R@10=1", "set-f1=0.8") == 0
    assert exit_code("ndcg@10=0.96") == 1
    assert "NDCG@10 0.9502 is below 0.96" in capsys.readouterr().err
    assert exit_code("fulltext:recall@10=0.6") == 1
    assert exit_code("ndcg@10") == 2  # bad syntax: checked before anything runs
    assert "use [MODE:]METRIC=VALUE" in capsys.readouterr().err
    assert exit_code("precision@5=0.1") == 2  # no figure of a text file to check


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("ndcg@10=0.85", Gate("hybrid", "ndcg10", 0.85)),
        ("NDCG10=1", Gate("hybrid", "ndcg10", 1.0)),
        ("fused:Recall@10=0.5", Gate("fused", "recall10", 0.5)),
        ("image:p@5=.2", Gate("image", "precision5", 0.2)),
        ("mrr=0.7", Gate("hybrid", "mrr", 0.7)),
    ],
)
def test_gate_syntax(text, gate):
    assert gate_parse(text) == gate


@pytest.mark.parametrize("text", ["ndcg@10", "=0.5", "ndcg@10=", "bleu=0.5", "ndcg@10=high", "vision:mrr=0.5"])
def test_bad_gate_syntax_is_refused(text):
    with pytest.raises(GateSyntaxError):
        gate_parse(text)


def test_tune_finds_better_weights_reports_the_holdout_and_stores_a_generation(tiny_shop, tmp_path):
    # given queries that want C first: only full text puts it there (the production hybrid ranks it last)
    tune_file = eval_file(tmp_path, "tune.jsonl", [{"query": "lantern", "relevant": {"C": 1}}])
    holdout_file = eval_file(tmp_path, "holdout.jsonl", [{"query": "trail lantern", "relevant": {"C": 1}}])

    out, err = run(tune_file, "--tune", "--holdout", holdout_file, "--grid", "0,1", "--rrf-k", "60", "--json",
                   "--store")  # fmt: skip
    result = json.loads(out)

    # 15 weight ratios over the 4 signals of a text query, weighted and RRF, after the current fusion
    assert result["configurations_tried"] == 31
    assert result["signals_tuned"] == ["fulltext", "text_vector", "cross_modal", "fused"]
    assert result["proposed"] == {
        "method": "weighted",
        "weights": {"fulltext": 1.0, "text_vector": 0.0, "cross_modal": 0.0, "fused": 0.0, "image": 1.0},
        "rrf_k": 60,
    }
    # no threshold step within reach drops A or B (both far above): the match set, and its F1, stay
    assert result["thresholds_proposed"] == result["thresholds_before"] == {
        "text:text_vector": 0.5, "text:cross_modal": 0.5, "text:fused": 0.5}  # fmt: skip
    assert result["tune"] == {"queries": 1, "ndcg10_before": 0.5, "ndcg10_after": 1.0, "match_f1_before": 0.5,
                              "match_f1_after": 0.5}  # fmt: skip
    assert result["holdout"] == {"queries": 1, "ndcg10_before": 0.5, "ndcg10_after": 1.0, "gain": 0.5,
                                 "match_f1_before": 0.5, "match_f1_after": 0.5}  # fmt: skip
    # the stored generation: a ready copy of the vectors, with the tuned fusion that search then uses
    stored = EmbeddingGeneration.objects.get(pk=result["stored_generation"])
    assert stored.state == "ready"
    assert stored.search_fusion == {**result["proposed"], "thresholds": result["thresholds_proposed"]}
    assert ProductEmbedding.objects.filter(generation=stored).count() == 3
    assert ImageEmbedding.objects.filter(generation=stored).count() == 0  # tiny_generation has no photo rows
    assert f"generations activate {stored.pk}" in err
    ranked = search_products(SearchQuery(text="lantern", page_size=10), stored)
    assert [p["sku"] for p in ranked.products][0] == "C"
    assert [p["sku"] for p in search_products(SearchQuery(text="lantern"), tiny_shop).products][0] == "B"


def test_tune_without_holdout_files_splits_the_queries_the_same_way_every_time():
    queries = [EvalQuery("text", {"A": 1}, text=f"query {n}") for n in range(300)]
    tune, holdout = holdout_split(queries)
    assert (tune, holdout) == holdout_split(queries)
    assert len(tune) + len(holdout) == 300 and 70 < len(holdout) < 130
    assert not {q.text for q in tune} & {q.text for q in holdout}


def test_the_grid_tries_each_weight_ratio_once():
    base = FusionConfig(method="weighted", weights={"fulltext": 1.0, "image": 3.0}, rrf_k=60)
    configs = fusion_grid(["fulltext", "fused"], base, weights=(0, 1, 2), rrf_ks=(10,))
    # ratios (0,1) (1,0) (1,1) (0.5,1) (1,0.5); (2,2) is (1,1) again
    assert configs[0] == base and len(configs) == 1 + 5 * 2
    assert {c.method for c in configs[1:]} == {"weighted", "rrf"}
    assert all(c.weights["image"] == 3.0 for c in configs)


def test_evaluate_refuses_bad_input(tiny_shop, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x"}\n')
    with pytest.raises(CommandError, match="needs a 'relevant' object"):
        run(bad)
    with pytest.raises(CommandError, match="no generation 999"):
        run(bad, "--generation", "999")
    with pytest.raises(CommandError, match="go with --tune") as error:
        run(bad, "--store")
    assert error.value.returncode == 2


def test_a_copied_generation_has_the_same_vectors_its_own_indexes_and_its_own_fusion(catalog_dir):
    from catalog.services import catalog_import
    from embeddings.indexes import index_name
    from embeddings.services.generations import generation_activate, generation_copy

    from .conftest import build_generation, write_small_catalog

    catalog_import(path=write_small_catalog(catalog_dir))
    source = build_generation()
    fusion = {"method": "rrf", "weights": {"fulltext": 2.0, "fused": 1.0}, "rrf_k": 10}

    copy = generation_copy(source=source, search_fusion=fusion)

    assert (copy.state, copy.search_fusion, copy.head_id) == ("ready", fusion, source.head_id)
    for model in (ProductEmbedding, ImageEmbedding):
        assert model.objects.filter(generation=copy).count() == model.objects.filter(generation=source).count() > 0
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [index_name(copy.pk, "fused")])
        assert cursor.fetchone()[0] == 1
    assert FusionConfig.from_settings(generation=copy) == FusionConfig.from_dict(fusion)
    listing = io.StringIO()
    call_command("generations", "list", stdout=listing)
    assert "search fusion rrf k=10 fulltext=2,fused=1" in listing.getvalue()
    # activating it is an ordinary activation; the source stays ready for a rollback
    generation_activate(generation=copy)
    source.refresh_from_db()
    assert source.state == "ready"


def test_plot_writes_a_chart(tiny_shop, text_file, tmp_path):
    chart = tmp_path / "modes.png"

    _, err = run(text_file, "--plot", chart)

    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000
    assert f"chart saved to {chart}" in err
