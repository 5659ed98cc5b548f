"""``python manage.py catalog_quality [--refresh] [--format csv|jsonl] [--output FILE] [--kind KIND] [--limit N]``:
export the catalog quality report of the active generation, worst first (computed now when there is none yet,
or with ``--refresh``)."""

from __future__ import annotations

import csv
import io
import json

from django.core.management.base import BaseCommand, CommandError

from embeddings.selectors import active_generation
from quality.models import Finding
from quality.selectors import findings_list, report_latest
from quality.services import quality_report_build

FIELDS = ["rank", "kind", "score", "sku", "name", "photo", "other_sku", "evidence", "changed_since", "details"]


def finding_row(rank: int, finding: Finding) -> dict:
    return {
        "rank": rank,
        "kind": finding.kind,
        "score": round(finding.score, 2),
        "sku": finding.product.sku,
        "name": finding.product.name,
        "photo": finding.image.source if finding.image else "",
        "other_sku": finding.other_product.sku if finding.other_product else "",
        "evidence": finding.evidence,
        # The product changed after the check: the finding may be fixed already.
        "changed_since": finding.product.content_version != finding.content_version,
        "details": finding.details,
    }


def export_text(rows: list[dict], format: str) -> str:
    buffer = io.StringIO()
    if format == "jsonl":
        for row in rows:
            buffer.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "details": json.dumps(row["details"], ensure_ascii=False)})
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Export the catalog quality report (photos of other products, contradicted colours, wrong categories, "
    help += "near duplicates) of the active generation, worst first."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")
        parser.add_argument("--kind", action="append", choices=Finding.Kind.values, help="only this kind (repeatable)")
        parser.add_argument("--limit", type=int, help="at most this many findings")
        parser.add_argument("--refresh", action="store_true", help="run the check now, even if a report exists")

    def handle(self, *args, format, output, kind, limit, refresh, **options):
        generation = active_generation()
        if generation is None:
            raise CommandError("no active generation: build one first (manage.py reindex)")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        report = None if refresh else report_latest(generation)
        if report is None:
            self.stderr.write(f"checking generation {generation.pk} (this trains small models: seconds to minutes)")
            report = quality_report_build(generation=generation)
        findings = findings_list(report=report)
        if kind:
            findings = findings.filter(kind__in=kind)
        rows = [finding_row(rank, f) for rank, f in enumerate(findings[:limit] if limit else findings, start=1)]
        text = export_text(rows, format)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
        notes = "; ".join(report.notes)
        self.stderr.write(
            f"generation {generation.pk}, report of {report.created_at:%Y-%m-%d %H:%M} UTC: {len(rows)} findings"
            + (f" ({notes})" if notes else "")
        )
