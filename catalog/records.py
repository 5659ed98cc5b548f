"""Reading the catalog format (see README "Catalog format"): one JSON line in, one validated record out.

Strict about required fields and the values the format constrains (sku, name, price >= 0, rating 1-5);
forgiving about the rest (unknown keys are ignored, numbers may come as strings, missing optional fields take
their defaults). Anything unusable raises ``RecordError`` with a message meant for the person fixing the file.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from .models import SKU_MAX_LENGTH

# Longest texts and lists a record may carry: every text that is stored has a bound, so one broken line (or one
# hostile API call) cannot put megabytes into a row that every search reads. The longest description in luma-dev
# is about 5,000 characters, its longest line 12 KB; a line over these is certainly broken.
NAME_MAX_LENGTH = 255
BRAND_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 100_000
REVIEW_MAX_LENGTH = 20_000
ATTRIBUTE_NAME_MAX_LENGTH = 100
ATTRIBUTE_VALUE_MAX_LENGTH = 1_000
ATTRIBUTES_MAX = 200  # names per product or variant
ATTRIBUTE_VALUES_MAX = 100  # values in one attribute's list
CATEGORY_PATH_MAX_LENGTH = 512  # Category.path
CATEGORY_NAME_MAX_LENGTH = 200  # one level of the path (Category.name)
CATEGORIES_MAX = 50
IMAGE_SOURCE_MAX_LENGTH = 2048  # ProductImage.source
IMAGES_MAX = 50  # photos per product or variant
VARIANTS_MAX = 1_000
MAX_LINE_BYTES = 1024 * 1024

# The product fields a record may carry. An import line or a PATCH replaces those it names and keeps the others
# (README, "Importing your own catalog"); a PUT replaces them all.
PRODUCT_FIELDS = ("name", "description", "categories", "brand", "price", "currency", "in_stock", "attributes",
                  "images", "variants")  # fmt: skip


class RecordError(ValueError):
    """A line of a catalog file that cannot be imported."""


@dataclass(frozen=True)
class Line:
    """One non-blank line of a JSONL file, with where it came from."""

    path: Path
    number: int
    raw: bytes

    @property
    def location(self) -> str:
        return f"{self.path.name}:{self.number}"


@dataclass
class VariantRecord:
    sku: str
    attributes: dict[str, str | list[str]]
    images: list[str]
    in_stock: bool
    price: Decimal | None


@dataclass
class ProductRecord:
    sku: str
    name: str
    description_html: str = ""
    description: str = ""
    categories: list[str] = field(default_factory=list)
    brand: str = ""
    price: Decimal | None = None
    currency: str = "USD"
    in_stock: bool = True
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    variants: list[VariantRecord] = field(default_factory=list)
    # The fields the record named (``PRODUCT_FIELDS``); the others keep what is stored when the product exists.
    present: frozenset[str] = frozenset(PRODUCT_FIELDS)
    # Problems with parts of the line (a variant without sku) that do not stop the product from importing.
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReviewRecord:
    sku: str
    rating: int
    title: str
    body: str
    author: str
    created_at: datetime | None


def read_lines(path: Path) -> Iterator[Line]:
    """The non-blank lines of a JSONL file, numbered from 1 as an editor shows them."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield Line(path=path, number=number, raw=raw)


def load_object(line: Line) -> dict[str, Any]:
    if len(line.raw) > MAX_LINE_BYTES:
        raise RecordError(f"line is {len(line.raw)} bytes, more than the {MAX_LINE_BYTES} allowed")
    try:
        text = line.raw.decode("utf-8-sig" if line.number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"malformed JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise RecordError(f"expected a JSON object, got {type(data).__name__}")
    return data


# --- field readers --------------------------------------------------------------------------------------------


def _required_str(data: dict[str, Any], key: str, *, max_length: int | None = None) -> str:
    value = data.get(key)
    if value is None:
        raise RecordError(f"missing required field {key!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{key!r} must be a non-empty string")
    value = value.strip()
    if max_length and len(value) > max_length:
        raise RecordError(f"{key!r} is {len(value)} characters, at most {max_length} allowed")
    return value


def _optional_str(data: dict[str, Any], key: str, default: str = "", *, max_length: int | None = None) -> str:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise RecordError(f"{key!r} must be a string")
    if max_length and len(value) > max_length:
        raise RecordError(f"{key!r} is {len(value)} characters, at most {max_length} allowed")
    return value.strip()


def _price(data: dict[str, Any], key: str = "price") -> Decimal | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RecordError(f"{key!r} must be a decimal number")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordError(f"{key!r} is not a decimal number: {value!r}") from None
    if not price.is_finite():
        raise RecordError(f"{key!r} must be a finite number, got {value!r}")
    if price < 0:
        raise RecordError(f"{key!r} must be at least 0, got {value!r}")
    if price >= Decimal("1e10"):
        raise RecordError(f"{key!r} is too large: {value!r}")
    return price.quantize(Decimal("0.01"))


_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


def _bool(data: dict[str, Any], key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise RecordError(f"{key!r} must be true or false, got {value!r}")


def _str_list(data: dict[str, Any], key: str, *, max_items: int, max_length: int) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RecordError(f"{key!r} must be a list of strings")
    items = list(dict.fromkeys(item.strip() for item in value if item.strip()))
    if len(items) > max_items:
        raise RecordError(f"{key!r} has {len(items)} entries, at most {max_items} allowed")
    for item in items:
        if len(item) > max_length:
            raise RecordError(f"an entry of {key!r} is {len(item)} characters, at most {max_length} allowed")
    return items


def _attributes(data: dict[str, Any], key: str = "attributes") -> dict[str, str | list[str]]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecordError(f"{key!r} must be an object")
    if len(value) > ATTRIBUTES_MAX:
        raise RecordError(f"{key!r} has {len(value)} names, at most {ATTRIBUTES_MAX} allowed")
    attributes: dict[str, str | list[str]] = {}
    for name, raw in value.items():
        name = str(name).strip()
        if not name:
            continue
        if len(name) > ATTRIBUTE_NAME_MAX_LENGTH:
            raise RecordError(f"attribute name {name[:40]!r}... is {len(name)} characters, at most "
                              f"{ATTRIBUTE_NAME_MAX_LENGTH} allowed")  # fmt: skip
        if isinstance(raw, list):
            if len(raw) > ATTRIBUTE_VALUES_MAX:
                raise RecordError(f"attribute {name!r} has {len(raw)} values, at most {ATTRIBUTE_VALUES_MAX} allowed")
            items = [_scalar(name, item) for item in raw if item is not None]
            attributes[name] = [item for item in items if item]
        elif raw is not None:
            text = _scalar(name, raw)
            if text:
                attributes[name] = text
    return attributes


def _scalar(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (str, int, float)):
        text = clean_text(str(value))
        if len(text) > ATTRIBUTE_VALUE_MAX_LENGTH:
            raise RecordError(f"attribute {name!r} has a value of {len(text)} characters, at most "
                              f"{ATTRIBUTE_VALUE_MAX_LENGTH} allowed")  # fmt: skip
        return text
    raise RecordError(f"attribute {name!r} must be a string or a list of strings")


def category_path(raw: str) -> str:
    """``" Men / Tops/Jackets/ "`` -> ``"Men/Tops/Jackets"``, each level clean text (``clean_text``)."""
    return "/".join(filter(None, (clean_text(part) for part in raw.split("/"))))


_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr)\s*/?\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_SCRIPTS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


# A tag of markup: "<b>", "</span>", "<br/>", "<a href=...>", a comment; not a lone "<" ("size <10").
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Entities escaped more than once ("&amp;trade;") are unescaped up to this many times.
UNESCAPE_ROUNDS = 3


def clean_text(source: str) -> str:
    """A plain-text field as shoppers should read it: HTML entities unescaped (``EverCool&trade;`` ->
    ``EverCool™``, also when escaped twice), tags stripped, control characters and runs of spaces made one space."""
    text = source
    for _ in range(UNESCAPE_ROUNDS):
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    text = _TAG.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def html_to_text(source: str) -> str:
    """Plain text of an HTML description: tags stripped, entities unescaped, one line per block."""
    text = _SCRIPTS.sub(" ", source)
    text = _BLOCK_TAGS.sub("\n", text)
    text = _TAGS.sub(" ", text)
    text = html.unescape(text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --- records --------------------------------------------------------------------------------------------------


def parse_product(data: dict[str, Any], *, partial: bool = False) -> ProductRecord:
    """The record of one product line. ``partial`` (a PATCH): ``name`` may be left out like any other field."""
    sku = _required_str(data, "sku", max_length=SKU_MAX_LENGTH)
    name = ""
    if "name" in data or not partial:
        name = clean_text(_required_str(data, "name", max_length=NAME_MAX_LENGTH))
        if not name:
            raise RecordError("'name' is empty once its markup is removed")
    description_html = _optional_str(data, "description", max_length=DESCRIPTION_MAX_LENGTH)
    currency = (_optional_str(data, "currency") or "USD").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise RecordError(f"'currency' must be an ISO 4217 code like USD, got {currency!r}")
    categories = []
    for raw in _str_list(data, "categories", max_items=CATEGORIES_MAX, max_length=CATEGORY_PATH_MAX_LENGTH):
        path = category_path(raw)
        if any(len(part) > CATEGORY_NAME_MAX_LENGTH for part in path.split("/")):
            raise RecordError(f"a level of category {path[:60]!r}... is over {CATEGORY_NAME_MAX_LENGTH} characters")
        if path and path not in categories:
            categories.append(path)
    record = ProductRecord(
        sku=sku,
        name=name,
        description_html=description_html,
        description=html_to_text(description_html),
        categories=categories,
        brand=clean_text(_optional_str(data, "brand", max_length=BRAND_MAX_LENGTH)),
        price=_price(data),
        currency=currency,
        in_stock=_bool(data, "in_stock", True),
        attributes=_attributes(data),
        images=_str_list(data, "images", max_items=IMAGES_MAX, max_length=IMAGE_SOURCE_MAX_LENGTH),
        present=frozenset(key for key in PRODUCT_FIELDS if key in data),
    )
    raw_variants = data.get("variants") or []
    if not isinstance(raw_variants, list):
        raise RecordError("'variants' must be a list of objects")
    if len(raw_variants) > VARIANTS_MAX:
        raise RecordError(f"'variants' has {len(raw_variants)} entries, at most {VARIANTS_MAX} allowed")
    seen: set[str] = set()
    for index, raw in enumerate(raw_variants, start=1):
        try:
            if not isinstance(raw, dict):
                raise RecordError("must be an object")
            variant = VariantRecord(
                sku=_required_str(raw, "sku", max_length=SKU_MAX_LENGTH),
                attributes=_attributes(raw),
                images=_str_list(raw, "images", max_items=IMAGES_MAX, max_length=IMAGE_SOURCE_MAX_LENGTH),
                in_stock=_bool(raw, "in_stock", True),
                price=_price(raw),
            )
            if variant.sku in seen or variant.sku == sku:
                raise RecordError(f"duplicate sku {variant.sku!r}")
        except RecordError as exc:
            record.warnings.append(f"variant {index} skipped: {exc}")
            continue
        seen.add(variant.sku)
        record.variants.append(variant)
    return record


def parse_review(data: dict[str, Any]) -> ReviewRecord:
    sku = _required_str(data, "sku", max_length=SKU_MAX_LENGTH)
    rating = data.get("rating")
    if isinstance(rating, str) and rating.strip().isdigit():
        rating = int(rating)
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise RecordError(f"'rating' must be a whole number from 1 to 5, got {rating!r}")
    if not 1 <= rating <= 5:
        raise RecordError(f"'rating' must be from 1 to 5, got {rating}")
    created_raw = _optional_str(data, "created_at")
    created_at = None
    if created_raw:
        try:
            created_at = parse_datetime(created_raw) or _parse_date(created_raw)
        except ValueError:
            created_at = None
        if created_at is None:
            raise RecordError(f"'created_at' is not an ISO 8601 date: {created_raw!r}")
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
    return ReviewRecord(
        sku=sku,
        rating=rating,
        title=_optional_str(data, "title")[:255],
        body=_optional_str(data, "body", max_length=REVIEW_MAX_LENGTH),
        author=_optional_str(data, "author")[:120],
        created_at=created_at,
    )


def _parse_date(raw: str) -> datetime | None:
    day = parse_date(raw)
    return datetime(day.year, day.month, day.day) if day else None
