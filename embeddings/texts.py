"""What the text side of an embedding reads: a product's document, and the texts its photos are trained against.

Pure functions over ``ProductContent`` (built by ``selectors.product_contents``), no database and no models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Attributes that describe what a product looks like or is made of; others (flags like sale=Yes) are skipped.
DESCRIPTIVE_ATTRIBUTES = (
    "color",
    "material",
    "pattern",
    "style_general",
    "style_bottom",
    "style_bags",
    "climate",
    "activity",
    "gender",
    "category_gear",
    "features_bags",
    "strap_bags",
)
_FLAG_VALUES = {"yes", "no", "true", "false", "0", "1"}
# Words of the product document beyond this are dropped: MiniLM reads 256 word pieces at most.
DOCUMENT_MAX_WORDS = 160
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class PhotoContent:
    image_id: int
    file: str
    colors: list[str] = field(default_factory=list)  # colours of the variants that show this photo


@dataclass
class ProductContent:
    id: int
    sku: str
    name: str
    brand: str = ""
    categories: list[str] = field(default_factory=list)  # paths, primary first
    attributes: dict[str, str | list[str]] = field(default_factory=dict)
    description: str = ""
    review_titles: list[str] = field(default_factory=list)
    photos: list[PhotoContent] = field(default_factory=list)


def attribute_values(content: ProductContent, key: str) -> list[str]:
    value = content.attributes.get(key)
    values = value if isinstance(value, list) else [value] if value else []
    return [v for v in values if v and v.strip().lower() not in _FLAG_VALUES]


def leaf_names(content: ProductContent) -> list[str]:
    return list(dict.fromkeys(path.rsplit("/", 1)[-1] for path in content.categories))


def product_document(content: ProductContent) -> str:
    """The product as one text for the text encoder: name, categories, brand, attributes, description."""
    parts = [content.name]
    parts += [path.replace("/", " > ") for path in content.categories]
    if content.brand:
        parts.append(content.brand)
    for key in DESCRIPTIVE_ATTRIBUTES:
        values = attribute_values(content, key)
        if values:
            parts.append(f"{key.replace('_', ' ')}: {', '.join(values)}")
    head = ". ".join(parts)
    words = content.description.split()
    budget = max(0, DOCUMENT_MAX_WORDS - len(head.split()))
    return f"{head}. {' '.join(words[:budget])}".strip()


def description_sentences(content: ProductContent, limit: int = 4) -> list[str]:
    sentences = [s.strip(" \u2022-*") for s in _SENTENCE.split(content.description)]
    return [s for s in sentences if len(s.split()) >= 3][:limit]


def training_texts(content: ProductContent, photo: PhotoContent) -> list[str]:
    """Texts a photo of this product is paired with when the alignment head learns (symmetric InfoNCE):
    name; category paths; attribute phrases (colour of the photo when known); description sentences; review titles.
    """
    leaves = leaf_names(content) or [content.name]
    colors = photo.colors or attribute_values(content, "color")
    texts = [content.name]
    texts += [path.replace("/", " ") for path in content.categories]
    for color in colors:
        texts += [f"{color} {leaf}" for leaf in leaves[:2]]
        texts.append(f"{color} {content.name}")
    for key in ("material", "pattern", "style_general", "activity", "category_gear"):
        for value in attribute_values(content, key)[:3]:
            texts.append(f"{value} {leaves[0]}")
    if content.brand:
        texts.append(f"{content.brand} {leaves[0]}")
    texts += description_sentences(content)
    texts += [title for title in content.review_titles[:3] if title.strip()]
    return list(dict.fromkeys(t.strip() for t in texts if t.strip()))
