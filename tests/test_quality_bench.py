"""How bench/catalog_quality.py reads a ranking against what was planted: the strict reading, and the judged one
(the catalog's own errors, judged by a person or found by identical photos, count as found; anything else unplanted
is a false alarm, judged or not)."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from catalog_quality import Planted, judgements_read, measure  # noqa: E402

COLOUR = "colour_contradicted"


def finding(sku: str, stated: str) -> SimpleNamespace:
    return SimpleNamespace(kind=COLOUR, sku=sku, details={"stated": stated}, flagged=True)


def test_judged_errors_count_as_found_and_the_rest_unplanted_as_false_alarms(tmp_path):
    judgements = tmp_path / "judged.json"
    judgements.write_text(json.dumps({"shop": {"judged": [
        {"kind": COLOUR, "key": ["OWN1", "Gray"], "error": True, "why": "a teal tank"},
        {"kind": COLOUR, "key": ["OWN2", "Purple"], "error": False, "why": "lavender is a purple"},
        {"kind": COLOUR, "key": ["P1", "Gray"], "error": True, "why": "its Gray photos are of another colour"},
        {"kind": COLOUR, "key": ["P2", "Red"], "error": True, "why": "a planted error replaced Red since"},
        {"kind": COLOUR, "key": ["SWAP", "Red"], "error": True, "why": "a planted swap took its photos since"},
        {"kind": "photo_of_other_product", "key": ["SWAP", "a.jpg"], "error": False, "why": "its own photo, kept"},
    ]}}))  # fmt: skip
    planted = Planted(colours={"P1": "Blue", "P2": "Green"}, stale={("P1", "Red"), ("P2", "Red"), "SWAP"})
    judgements_read(planted, "shop", judgements)
    judgements_read(planted, "another shop", judgements)  # judgements are per catalog: nothing for this one
    assert planted.judged_errors == {COLOUR: {("OWN1", "Gray"), ("P1", "Gray")}}
    assert planted.judged_fine == {COLOUR: {("OWN2", "Purple")}, "photo_of_other_product": {("SWAP", "a.jpg")}}

    ranking = [finding("P1", "Blue"), finding("OWN2", "Purple"), finding("OWN1", "Gray"), finding("P2", "Green")]
    lines, table = measure(planted, {COLOUR: ranking}, pre_existing={("OWN1", "Gray"), ("OWN2", "Purple")})
    # Strict: the top 2 holds one of the 2 planted. Judged: N = 2 planted + 2 own errors; the top 4 holds P1, OWN1
    # and P2 (found) and OWN2 (judged fine, so a false alarm); P1's Gray is never found.
    assert "strict: P@N 0.50 R@N 0.50" in lines[0]
    assert "N 4, P@N 0.75, planted R@N 1.00" in lines[1]
    assert lines[1].endswith("(counted as false alarms): none")
    assert table[0].startswith("| colour contradicted | 0.50 | 0.50 |")

    unjudged = [finding("P1", "Blue"), finding("NEW", "Black"), finding("P2", "Green")]
    lines, _ = measure(planted, {COLOUR: unjudged}, pre_existing=set())
    assert "N 4, P@N 0.50, planted R@N 1.00" in lines[1]
    assert lines[1].endswith("(counted as false alarms): ('NEW', 'Black')")
