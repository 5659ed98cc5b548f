"""Reading evaluation files (docs/catalog-format.md): one query per line; the kind is detected per line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvalQuery:
    kind: str  # "text", "photo" or "similar"
    relevant: dict[str, float]
    text: str = ""
    image: Path | None = None  # photo queries: resolved against the catalog folder
    sku: str = ""
    line: int = 0


class EvalFileError(ValueError):
    pass


def read_eval_file(path: Path, *, catalog_dir: Path | None = None) -> list[EvalQuery]:
    """Queries of an evaluation file. Photo paths are relative to the catalog folder (default: the parent of the
    file's folder, as in ``catalog/eval/x.jsonl``)."""
    path = Path(path)
    catalog_dir = Path(catalog_dir) if catalog_dir else path.parent.parent
    queries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"{path.name}:{number}: malformed JSON: {exc.msg}") from None
        relevant = data.get("relevant") if isinstance(data, dict) else None
        if not isinstance(relevant, dict) or (not relevant and not _text_line(data)):
            raise EvalFileError(f"{path.name}:{number}: needs a 'relevant' object (empty only for a text query "
                                "that should find nothing)")  # fmt: skip
        relevant = {str(sku): float(grade) for sku, grade in relevant.items()}
        if "image" in data:
            queries.append(
                EvalQuery("photo", relevant, text=data.get("query", ""), image=catalog_dir / data["image"], line=number)
            )
        elif "sku" in data:
            queries.append(EvalQuery("similar", relevant, sku=str(data["sku"]), line=number))
        elif "query" in data:
            queries.append(EvalQuery("text", relevant, text=str(data["query"]), line=number))
        else:
            raise EvalFileError(f"{path.name}:{number}: a query needs 'query', 'image' or 'sku'")
    return queries


def _text_line(data: dict) -> bool:
    return "query" in data and "image" not in data and "sku" not in data
