"""Catalog quality report on a catalog with planted errors: precision and recall of the top of each kind's list.

    python bench/catalog_quality.py [--catalog ../shared/datasets/luma-dev] [--seed 2] [--per-kind 10]
    python bench/catalog_quality.py --scale 50000      # the check's time and memory on the scaled catalog

Copies the catalog (with its licence files) to a temporary folder and plants errors there, seeded: photos swapped
between products (``--per-kind`` photos, in pairs), colour attributes changed to another colour of the catalog,
products moved to another leaf category, products duplicated under new SKUs (name slightly reworded, photos
re-encoded so that no file is byte-identical). Each planted product takes one error only. The planted copy and
the untouched catalog are each imported into a scratch database and get a generation built with the real encoders
(settings); the report runs on both. Per kind it prints the planted count N, precision and recall of the top N
and top 2N of that kind's ranking, how many planted errors the stored list (findings above the kind's threshold)
holds, and the findings of the planted copy that the untouched catalog has too (its own issues: listed, and
counted apart as "pre-existing" so that precision can be read with and without them). Develop with one seed,
report another: never tune to the seed you report.

Scoring. Strict: only the planted errors count as found; anything else in the top N is a false alarm. Two more
readings, each printed beside the strict one:

- without pre-existing: the findings the untouched catalog lists too are taken out of the ranking before its top N
  is read (they are the catalog's own, not planted, and the bench cannot tell whether they are real);
- judged: the catalog's own findings that a person judged to be real errors (``catalog_quality_judged.json``, per
  catalog: each unplanted finding that reached a reported top N of its kind, judged by looking at the product's
  photos) count as found, N becomes planted + those, and any other unplanted finding in
  the top N is a false alarm (an unjudged one too: the bench names those, to be judged). The precision printed is
  that of the top N; the recall beside it is the planted errors' (within that top N);
  near duplicates need no person: products of the source catalog that list photos of identical content (SHA-256
  of the file, checked before anything runs) are near duplicates under different SKUs by the photo itself
  (luma-dev sells each stasis ball size and yoga strap length as its own SKU with one photo: 12 pairs), which is
  what the check is asked to find, and count as real errors of the catalog's own.

``--scale N`` runs the check, read only, on the kept scaled catalog of bench/scaled_catalog.py (``test_scaled_<N>``,
built by ``python bench/scaled_catalog.py --products N``): the time of each phase, the peak of the Python and
numpy allocations (tracemalloc; torch's own buffers are not traced) and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from _setup import ROOT, django_setup, scratch_database

# Reworded names of duplicates: how a second listing of the same product is typically written.
REWORDINGS = ("{name} - New", "New {name}", "{name} (2nd listing)", "The {name}", "{name}, Classic")


@dataclass
class Planted:
    """What was planted, as the report would name it."""

    photos: set[tuple[str, str]] = field(default_factory=set)  # (sku, photo source) of a photo of another product
    colours: dict[str, str] = field(default_factory=dict)  # sku -> the wrong colour it now states
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)  # sku -> (true, wrong) primary category
    duplicates: set[frozenset[str]] = field(default_factory=set)  # {original sku, duplicate sku}
    # SKUs of the source catalog that list the same photo file: near duplicates the catalog had before planting.
    own_duplicates: set[frozenset[str]] = field(default_factory=set)
    # What a planted error changed under a judged finding of the source catalog: the SKUs whose photos were swapped,
    # (sku, colour) of each colour replaced.
    stale: set = field(default_factory=set)
    # Findings of the source catalog judged by a person (``judgements_read``): kind -> keys, real errors / not.
    judged_errors: dict[str, set] = field(default_factory=dict)
    judged_fine: dict[str, set] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return len(self.keys(kind))

    def keys(self, kind: str) -> set:
        return {
            "photo_of_other_product": self.photos,
            "colour_contradicted": set(self.colours.items()),
            "wrong_category": set(self.categories),
            "near_duplicate": self.duplicates,
        }[kind]

    def hit(self, finding) -> bool:
        keys = self.keys(finding.kind)
        return finding_key(finding) in keys


def finding_key(finding):
    if finding.kind == "photo_of_other_product":
        return (finding.sku, finding.photo)
    if finding.kind == "near_duplicate":
        return frozenset((finding.sku, finding.other_sku))
    if finding.kind == "colour_contradicted":
        return (finding.sku, finding.details["stated"])
    return finding.sku


JUDGEMENTS = Path(__file__).with_name("catalog_quality_judged.json")


def _judged_key(kind: str, key: list):
    if kind == "near_duplicate":
        return frozenset(key)
    if kind in ("photo_of_other_product", "colour_contradicted"):
        return tuple(key)
    return key[0]


def judgements_read(planted: Planted, catalog: str, path: Path = JUDGEMENTS) -> None:
    """The catalog's own findings judged by a person into ``planted.judged_errors`` and ``planted.judged_fine``, but
    for the colours that a planted error changed (``planted.stale``)."""
    entries = json.loads(path.read_text()).get(catalog, {}).get("judged", []) if path.exists() else []
    for entry in entries:
        key = _judged_key(entry["kind"], entry["key"])
        # A colour is judged by its photos: one replaced, or photos swapped away, leaves the judgement behind.
        if entry["kind"] == "colour_contradicted" and (key in planted.stale or key[0] in planted.stale):
            continue
        target = planted.judged_errors if entry["error"] else planted.judged_fine
        target.setdefault(entry["kind"], set()).add(key)


def _colours(record: dict) -> list[str]:
    value = (record.get("attributes") or {}).get("color")
    return value if isinstance(value, list) else [value] if value else []


def _reencode(source: Path, target: Path) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image = image.convert("RGB")
        width, height = image.size
        image = image.resize((int(width * 0.92), int(height * 0.92)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=83)
    target.write_bytes(buffer.getvalue())


def plant_errors(source: Path, target: Path, *, seed: int, per_kind: int) -> Planted:
    """Copy the catalog at ``source`` to ``target`` with ``per_kind`` errors of each kind planted (seeded)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("eval"))
    records = [json.loads(line) for line in (source / "products.jsonl").read_text().splitlines() if line.strip()]
    rng = random.Random(seed)
    planted = Planted()
    # A photo file listed by several products (luma's stability balls in three sizes) would make a swap ambiguous.
    owners: dict[str, set[str]] = {}
    for record in records:
        for image in record.get("images") or []:
            owners.setdefault(image, set()).add(record["sku"])
    # The catalog's own near duplicates: SKUs listing photos of identical content (by hash, whatever the file name).
    by_content: dict[str, set[str]] = {}
    for image, skus in owners.items():
        by_content.setdefault(hashlib.sha256((source / image).read_bytes()).hexdigest(), set()).update(skus)
    for skus in by_content.values():
        planted.own_duplicates |= {frozenset((a, b)) for a in skus for b in skus if a < b}
    free = [r for r in records if r.get("images") and all(len(owners[i]) == 1 for i in r["images"])]
    rng.shuffle(free)
    taken: set[str] = set()

    def take(predicate, count: int) -> list[dict]:
        chosen = [r for r in free if r["sku"] not in taken and predicate(r)][:count]
        taken.update(r["sku"] for r in chosen)
        return chosen

    def replace_photo(record: dict, old: str, new: str) -> None:
        record["images"] = [new if image == old else image for image in record["images"]]
        for variant in record.get("variants") or []:
            variant["images"] = [new if image == old else image for image in variant.get("images") or []]

    # Photos swapped between two products (each pair: two photos on the wrong product).
    swapped = take(lambda r: True, per_kind - per_kind % 2)
    for first, second in zip(swapped[::2], swapped[1::2], strict=True):
        a, b = rng.choice(first["images"]), rng.choice(second["images"])
        replace_photo(first, a, b)
        replace_photo(second, b, a)
        planted.photos |= {(first["sku"], b), (second["sku"], a)}
        planted.stale |= {first["sku"], second["sku"]}

    # A colour the product's photos show, stated as another colour of the catalog (variants too).
    palette = sorted({colour for record in records for colour in _colours(record)})
    for record in take(lambda r: bool(_colours(r)), per_kind):
        colours = _colours(record)
        shown = [c for c in colours if not record.get("variants") or any(
            v.get("images") and v.get("attributes", {}).get("color") == c for v in record["variants"])]  # fmt: skip
        old = rng.choice(shown or colours)
        new = rng.choice([c for c in palette if c not in colours])
        record["attributes"]["color"] = [new if c == old else c for c in colours] if len(colours) > 1 else new
        for variant in record.get("variants") or []:
            if variant.get("attributes", {}).get("color") == old:
                variant["attributes"]["color"] = new
        planted.colours[record["sku"]] = new
        planted.stale.add((record["sku"], old))

    # Another product's primary category as the primary one (not a secondary "Collections/..." or "Promotions/...").
    leaves = sorted({r["categories"][0] for r in records if r.get("categories")})
    for record in take(lambda r: bool(r.get("categories")), per_kind):
        true = record["categories"][0]
        wrong = rng.choice([leaf for leaf in leaves if leaf != true])
        record["categories"] = [wrong] + [c for c in record["categories"][1:] if c != wrong]
        planted.categories[record["sku"]] = (true, wrong)

    # The same product again under another SKU: name reworded, photos re-encoded.
    duplicates = []
    for record in take(lambda r: True, per_kind):
        copy = json.loads(json.dumps(record))
        copy["sku"] = f"{record['sku']}-X{seed}"
        copy["name"] = rng.choice(REWORDINGS).format(name=record["name"])
        renamed = {}
        for image in record["images"]:
            new = image.rsplit(".", 1)[0] + f"-copy{seed}.jpg"
            _reencode(source / image, target / new)
            renamed[image] = new
        copy["images"] = [renamed[i] for i in copy["images"]]
        for variant in copy.get("variants") or []:
            variant["sku"] = f"{variant['sku']}-X{seed}"
            variant["images"] = [renamed[i] for i in variant.get("images") or []]
        duplicates.append(copy)
        planted.duplicates.add(frozenset((record["sku"], copy["sku"])))

    lines = [json.dumps(record) for record in records + duplicates]
    (target / "products.jsonl").write_text("\n".join(lines) + "\n")
    return planted


def _precision_recall(ranking: list, truth: set, top: int) -> tuple[float, float]:
    hits = sum(finding_key(f) in truth for f in ranking[:top])
    return hits / top, hits / len(truth)


def measure(planted: Planted, findings_by_kind: dict[str, list], pre_existing: set) -> tuple[list[str], list[str]]:
    """Per kind: precision and recall of the top N and 2N of the ranking (N planted), strict, without the findings
    the untouched catalog lists too, and judged (the catalog's own real errors counted as found).
    Returns the printed lines and the rows of a Markdown table."""
    lines, table = [], []
    for kind, ranking in findings_by_kind.items():
        truth = planted.keys(kind)
        n = len(truth)
        if not n:
            continue
        flagged = [f for f in ranking if f.flagged]
        p1, r1 = _precision_recall(ranking, truth, n)
        p2, r2 = _precision_recall(ranking, truth, 2 * n)
        fresh = [f for f in ranking if planted.hit(f) or finding_key(f) not in pre_existing]
        p3, r3 = _precision_recall(fresh, truth, n)
        hits = sum(planted.hit(f) for f in flagged)
        old = sum(finding_key(f) in pre_existing for f in flagged if not planted.hit(f))
        lines.append(f"{kind:<24} N {n:>3} | strict: P@N {p1:.2f} R@N {r1:.2f}, P@2N {p2:.2f} R@2N {r2:.2f} | "
                     f"without pre-existing: P@N {p3:.2f} R@N {r3:.2f} | listed {len(flagged)} "
                     f"(planted {hits}, pre-existing {old})")  # fmt: skip
        row = [kind.replace("_", " "), f"{p1:.2f}", f"{r1:.2f}", f"{p2:.2f}", f"{r2:.2f}", f"{p3:.2f} / {r3:.2f}"]
        # The catalog's own real errors: judged by a person, and (near duplicates) SKUs with identical photos.
        real = planted.judged_errors.get(kind, set()) | (planted.own_duplicates if kind == "near_duplicate" else set())
        judged = truth | real
        p4 = _precision_recall(ranking, judged, len(judged))[0]
        r4 = _precision_recall(ranking, truth, len(judged))[1]
        fine = planted.judged_fine.get(kind, set())
        unjudged = [f for f in ranking[: len(judged)] if finding_key(f) not in judged | fine]
        lines.append(f"{'':<24} judged: {len(real)} real errors of the catalog's own as true, N {len(judged)}, "
                     f"P@N {p4:.2f}, planted R@N {r4:.2f}; unjudged in the top N (counted as false alarms): "
                     f"{', '.join(str(finding_key(f)) for f in unjudged) or 'none'}")  # fmt: skip
        row.append(f"{p4:.2f} / {r4:.2f} (N {len(judged)})")
        row.append(f"{len(flagged)} ({hits}, {old})")
        table.append("| " + " | ".join(row) + " |")
    return lines, table


def measure_print(planted: Planted, findings_by_kind: dict[str, list], pre_existing: set, label: str) -> None:
    """``measure``'s lines, then its Markdown table headed by ``label``."""
    lines, table = measure(planted, findings_by_kind, pre_existing)
    for line in lines:
        print(line)
    print()
    print(f"| kind ({label}) | P@N | R@N | P@2N | R@2N | without pre-existing P@N / R@N | "
          "judged P@N / planted R@N | listed (planted, pre-existing) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in table:
        print(row)
    print()


def fine_marks_create(planted: Planted, found: dict[str, list]) -> int:
    """A shop that reviewed its list before the errors were planted: each finding of the planted copy that a person
    judged fine on the source catalog (``planted.judged_fine``) is marked as fine through the product's own marks,
    unless the planting changed one of its products (a changed product's marks lapse). Returns the marks made."""
    from quality.models import Dismissal
    from quality.services import finding_key as dismissal_key

    touched = {sku for sku, _photo in planted.photos} | set(planted.colours) | set(planted.categories)
    marks = 0
    for kind, ranking in found.items():
        fine = planted.judged_fine.get(kind, set())
        for finding in ranking:
            if finding_key(finding) in fine and not {finding.sku, finding.other_sku} & touched:
                model = finding.model
                Dismissal.objects.get_or_create(
                    product_id=model.product_id, kind=kind, key=dismissal_key(model),
                    defaults={"content_version": model.content_version, "by": "bench"},
                )  # fmt: skip
                marks += 1
    return marks


def scale_measure(products: int) -> None:
    """The check on the kept scaled catalog (read only): time per phase, traced and resident memory."""
    import tracemalloc

    from _setup import peak_rss_mb
    from scaled_catalog import _current, _database_comment, _use_database, scaled_database_name

    from embeddings.selectors import active_generation
    from quality.services import catalog_findings_compute

    name = scaled_database_name(products)
    if not _current(_database_comment(name), products, 0):
        raise SystemExit(f"{name} is missing or stale: python bench/scaled_catalog.py --products {products}")
    _use_database(name)  # read only: no migration, nothing written
    generation = active_generation()
    resident = peak_rss_mb()
    tracemalloc.start()
    result = catalog_findings_compute(generation=generation)
    _current_bytes, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    listed = sum(f.flagged for f in result.findings)
    print(f"quality check on {name}: {result.products} products, {result.photos} photos, {listed} listed")
    for phase, seconds in result.timings.items():
        print(f"  {phase:<36} {seconds:8.1f} s")
    print(f"  {'total':<36} {result.seconds:8.1f} s")
    print(f"  peak traced allocations (Python + numpy): {traced_peak / 2**20:.0f} MB; process peak resident "
          f"{peak_rss_mb():.0f} MB (before the check {resident:.0f} MB)")  # fmt: skip


def build(catalog: Path) -> float:
    from catalog.services import catalog_import
    from embeddings.models import Job
    from embeddings.services.operations import job_run, job_start

    started = time.monotonic()
    report = catalog_import(path=catalog)
    print(f"  import: {report.summary()}")
    job = job_start(kind=Job.Kind.BUILD, options={"train": True}, run_async=False)
    job_run(job=job)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared" / "datasets" / "luma-dev")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--per-kind", type=int, default=10)
    parser.add_argument("--show", type=int, default=5, help="unplanted findings shown per kind")
    parser.add_argument("--database", default="catalog_quality", help="scratch databases: test_<this>_clean, ...")
    parser.add_argument("--scale", type=int, default=0, help="only measure the check's cost on this scaled catalog")
    args = parser.parse_args()
    django_setup()
    if args.scale:
        scale_measure(args.scale)
        return

    def ranked(findings: list) -> dict[str, list]:
        from catalog.models import Product, ProductImage
        from quality.checks import KINDS

        skus = dict(Product.objects.values_list("id", "sku"))
        sources = dict(ProductImage.objects.values_list("id", "source"))
        found = {kind: [] for kind in KINDS}
        for f in findings:
            found[f.kind].append(SimpleNamespace(
                kind=f.kind, sku=skus[f.product_id], photo=sources.get(f.image_id), score=f.score,
                other_sku=skus.get(f.other_product_id), evidence=f.evidence, details=f.details, flagged=f.flagged,
                model=f,
            ))  # fmt: skip
        return found

    def run_report() -> tuple[dict[str, list], float, list]:
        from embeddings.selectors import active_generation
        from quality.services import catalog_findings_compute

        result = catalog_findings_compute(generation=active_generation())
        return ranked(result.findings), result.seconds, result.findings

    with tempfile.TemporaryDirectory(prefix="catalog-quality-") as folder:
        copy = Path(folder) / f"{args.catalog.name}-planted"
        planted = plant_errors(args.catalog, copy, seed=args.seed, per_kind=args.per_kind)
        judgements_read(planted, args.catalog.name)
        print(f"planted copy of {args.catalog.name} (seed {args.seed}) in {copy}")
        with scratch_database(f"{args.database}_clean"):
            seconds = build(args.catalog)
            print(f"  untouched catalog: import + train + build {seconds:.1f} s")
            clean, clean_seconds, _findings = run_report()
            pre_existing = {finding_key(f) for kind in clean.values() for f in kind if f.flagged}
            print(f"  report: {clean_seconds:.2f} s, {len(pre_existing)} findings listed")
            for kind, ranking in clean.items():
                listed = [f for f in ranking if f.flagged]
                print(f"  {kind}: {len(listed)} listed on the untouched catalog")
                for finding in listed[: args.show]:
                    print(f"    {finding.score:.2f} {finding.sku}: {finding.evidence}")
        with scratch_database(f"{args.database}_planted"):
            seconds = build(copy)
            print(f"  planted copy: import + train + build {seconds:.1f} s")
            found, found_seconds, findings = run_report()
            print(f"  report: {found_seconds:.2f} s")
            from quality.services import dismissed_drop

            marks = fine_marks_create(planted, found)
            reviewed = ranked(dismissed_drop(findings)[0])
    print()
    measure_print(planted, found, pre_existing, f"seed {args.seed}")
    print(
        f"After the shop's review: the {marks} findings of the untouched catalog judged fine (on products the "
        "planting left as they were) marked as fine, through the product's own marks (quality.models.Dismissal):"
    )
    measure_print(planted, reviewed, pre_existing, f"seed {args.seed}, reviewed")
    for kind, ranking in found.items():
        n = planted.count(kind)
        missed = [f for f in ranking[: 2 * n] if not planted.hit(f)]
        print(f"{kind}: unplanted among the top {2 * n}:")
        for finding in missed[: args.show]:
            key = finding_key(finding)
            tag = "catalog's own" if key in planted.own_duplicates else "pre-existing" if key in pre_existing else "new"
            for verdict, judged in (("error", planted.judged_errors), ("fine", planted.judged_fine)):
                tag += f", judged {verdict}" if key in judged.get(kind, ()) else ""
            print(f"  {finding.score:.3f} {tag:<13} {finding.sku}: {finding.evidence}")
        found_keys = {finding_key(f) for f in ranking[: 2 * n]}
        for key in sorted(map(str, planted.keys(kind) - found_keys)):
            rank = next((i for i, f in enumerate(ranking) if str(finding_key(f)) == key), None)
            print(f"  missed {key} (rank {None if rank is None else rank + 1})")


if __name__ == "__main__":
    main()
