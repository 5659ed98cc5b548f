"""The keyword signal: which products match a query's words, and how well (BM25 inside PostgreSQL).

PostgreSQL's ``ts_rank`` knows how often and in which field a word occurs, but not how rare the word is in the
catalog, and ``@@`` either matches every word or nothing. Search needs both, so:

- **Term statistics** (``term_statistics``): each lexeme's document frequency over the search documents
  (``ts_stat``), the number of documents and their mean length, read once per process and again whenever the
  spelling vocabulary is rebuilt (the same catalog-change version drives both).
- **Score**: BM25 with ``ts_rank`` as the field-weighted term frequency (name 1.0, categories and brand 0.4,
  attributes 0.2, description and reviews 0.1): for each query word w found in a product,
  ``idf(w) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length))``, summed over the words.
- **Membership**: a product matches by keywords when it is of the kind the query names, or has every word.
  The kind is the query's head word ("pants" in "brown pants", "jacket" in "jacket for men": ``head_position``;
  ``SEARCH_KEYWORD_HEAD_MATCH``): when a category of the shop has it in its name, that category's products
  (``query_kinds``; a GIN index on the search documents' category facets finds them); else the products with the
  head in their name, categories or brand. A kind the shop names with another word ("t-shirt" where it says
  "Tees") needs a synonym: the vector signals find such products only above their relevance threshold. "Every word" may
  instead be a share of the query's inverse document frequency (``SEARCH_KEYWORD_MIN_COVERAGE``), and when the
  query names a kind, the head must be among them in the name, categories or brand (not "fits in your gym bag").
  So "brown pants" matches every pair of pants, the brown ones ranked first by BM25, and "garden hose" in a
  clothing shop matches nothing, however many products say "garden". Products that contain fewer of the words
  still get their score where another signal brings them (``search.candidates`` reads it for vector candidates).

Each query word is a group of alternatives (the word and its typo corrections, ``search.spelling``); a group
matches through any of them. Words without lexemes (stop words) are left out.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from .documents import TS_CONFIG
from .spelling import current_vocabulary

# BM25 parameters (Lucene's defaults).
BM25_K1 = 1.2
BM25_B = 0.75
# ts_rank weights of the document's fields, {D, C, B, A}: description and reviews, attributes, categories and
# brand, name (PostgreSQL's defaults).
FIELD_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"
# Words that start a complement after the head of a product query ("jacket for men").
QUERY_PREPOSITIONS = frozenset({"for", "with", "without", "in", "on", "under", "from", "by", "to", "of"})
# A word's tsquery restricted to the name, categories and brand (weights A and B): every lexeme of
# plainto_tsquery gets the label ":AB".
IN_TITLE = rf"regexp_replace(plainto_tsquery('{TS_CONFIG}', %s)::text, '''(\s|$)', ''':AB\1', 'g')::tsquery"
# Words that say a size, never the kind of product.
SIZE_WORDS = frozenset({"xxs", "xs", "xl", "xxl", "xxxl", "size", "sizes", "small", "medium", "large"})
# At most this many words take part in a query's keyword match (the rarest ones); more are ignored for
# membership. 2^10 word sets are enumerated at most.
MAX_GROUPS = 10


@dataclass(frozen=True)
class TermStatistics:
    documents: int
    mean_length: float
    frequencies: dict[str, int]  # lexeme -> documents containing it
    categories: tuple[tuple[str, int, frozenset[str]], ...] = ()  # each category's path, depth, name's lexemes

    def idf(self, lexeme: str) -> float:
        df = self.frequencies.get(lexeme, 0)
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))


class _Cached:
    lock = threading.Lock()
    statistics: TermStatistics | None = None
    vocabulary: object = None


def term_statistics() -> TermStatistics:
    """This process's term statistics, rebuilt with the spelling vocabulary (after catalog changes)."""
    vocabulary = current_vocabulary()
    current = _Cached.statistics
    if current is not None and _Cached.vocabulary is vocabulary:
        return current
    # While one thread rebuilds them, the others keep using the previous statistics (there are some but the first
    # time): a catalog change must not make every search wait for a ts_stat scan.
    if not _Cached.lock.acquire(blocking=current is None):
        return current
    try:
        if _Cached.statistics is None or _Cached.vocabulary is not vocabulary:
            _Cached.statistics = _read_statistics()
            _Cached.vocabulary = vocabulary
        return _Cached.statistics
    finally:
        _Cached.lock.release()


def _read_statistics() -> TermStatistics:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(avg(length(document)), 0) FROM search_searchdocument")
        documents, mean_length = cursor.fetchone()
        cursor.execute("SELECT word, ndoc FROM ts_stat('SELECT document FROM search_searchdocument')")
        frequencies = dict(cursor.fetchall())
        cursor.execute(f"SELECT path, depth, tsvector_to_array(to_tsvector('{TS_CONFIG}', name)) FROM catalog_category")
        categories = tuple((path, depth, frozenset(found)) for path, depth, found in cursor.fetchall() if found)
    return TermStatistics(
        documents=int(documents), mean_length=float(mean_length or 1.0), frequencies=frequencies, categories=categories
    )


def query_kinds(statistics: TermStatistics, query_lexemes: set[str], head_lexemes: set[str]) -> list[str]:
    """The kind of product a query names through the shop's own categories, as category paths: the
    categories whose name has the query's head word ("Pants" for "brown pants", "Hoodies & Sweatshirts" for
    "cotton hoodie"), narrowed to their most specific subcategories whose whole name is in the query too ("Tanks"
    under "Tops" for "tank top"). None when no category name has the head word: the query does not name a kind
    the shop files products under ("Performance Fabrics" for "performance fabric hoodie" is not its kind)."""
    heads = [path for path, _depth, words in statistics.categories if words & head_lexemes]
    if not heads:
        return []
    narrower = [
        (depth, path)
        for path, depth, words in statistics.categories
        if words <= query_lexemes and any(path.startswith(head + "/") for head in heads)
    ]
    if not narrower:
        return sorted(heads)
    deepest = max(depth for depth, _path in narrower)
    return sorted(path for depth, path in narrower if depth == deepest)


def lexemes(words: list[str]) -> dict[str, tuple[str, ...]]:
    """Each word's lexemes under the text search configuration (stemmed; none for a stop word), remembered per
    process: a new word costs one query, once."""
    result = {word: _known.get(word) for word in dict.fromkeys(words)}
    missing = [word for word, found in result.items() if found is None]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT w, tsvector_to_array(to_tsvector('{TS_CONFIG}', w)) FROM unnest(%s::text[]) w", [missing]
            )
            for word, found in cursor.fetchall():
                result[word] = tuple(found)
                _remember(word, result[word])
    return {word: result[word] or () for word in words}


_known: dict[str, tuple[str, ...]] = {}
KNOWN_WORDS_KEEP = 100_000


def _remember(word: str, found: tuple[str, ...]) -> None:
    if len(_known) >= KNOWN_WORDS_KEEP:
        _known.clear()
    _known[word] = found


@dataclass(frozen=True)
class KeywordQuery:
    """A text query's keyword signal as SQL: ``source`` (a sub-select of one row: each word group's tsquery and
    the match condition, as columns of ``kq``), ``match`` (a condition on ``d.document``) and ``score`` (BM25 of
    ``d``), with their parameters in the order the fragments appear in ``source``."""

    source: str
    params: list
    match: str
    score: str
    terms: str  # a LATERAL sub-select after ``d`` and ``kq``: each group's ``ts_rank`` in ``d``, once per row (``kt``)
    words: int
    # With a named kind: its categories' facet values (``kq.kinds``), the condition of having every word, and the
    # term statistics the query was made with (the kind's counts are remembered while they hold: search.candidates).
    kinds: tuple[str, ...] = ()
    every: str = ""
    every_at_most: int = 0  # how many products can have every word (the fewest that have one of them)
    catalog: object = None

    @property
    def names_category(self) -> bool:
        """The query names one of the shop's categories: its kind is known."""
        return bool(self.kinds)


def head_position(tokens: list[str]) -> int:
    """The position of a query's head word, the product it names: the last word, or the last one before a
    preposition that starts a complement ("jacket for men", "tent with porch"), skipping numbers, sizes and
    single letters ("pants 32", "hoodie size m"). Modifiers before it (colours, materials, brands) narrow the
    kind; the head is the kind."""
    end = len(tokens)
    for position, token in enumerate(tokens):
        if token in QUERY_PREPOSITIONS and position > 0:
            end = position
            break
    for position in range(end - 1, -1, -1):
        if _may_be_head(tokens[position]):
            return position
    return end - 1


def _may_be_head(token: str) -> bool:
    return token.isalpha() and len(token) >= 3 and token not in SIZE_WORDS


def keyword_query(
    alternatives: list[list[str]], *, min_coverage: float | None = None, head_match: bool | None = None
) -> KeywordQuery | None:
    """The keyword signal of a query (its word groups in query order, each the word and its corrections); None
    when no word has a lexeme (only stop words)."""
    min_coverage = settings.SEARCH_KEYWORD_MIN_COVERAGE if min_coverage is None else min_coverage
    head_match = settings.SEARCH_KEYWORD_HEAD_MATCH if head_match is None else head_match
    statistics = term_statistics()
    found = lexemes([word for group in alternatives for word in group])
    head = head_position([group[0] for group in alternatives]) if alternatives else -1
    head_group = None
    groups: list[tuple[list[str], float]] = []
    for position, group in enumerate(alternatives):
        words = [word for word in group if found[word]]
        if not words:
            continue
        if position <= head or head_group is None:
            head_group = len(groups)  # the head, or the last word with a lexeme before it
        in_catalog = [
            max(statistics.idf(lexeme) for lexeme in found[word])
            for word in words
            if all(statistics.frequencies.get(lexeme) for lexeme in found[word])
        ]
        # The group's weight: its rarest alternative found in the catalog (a word found nowhere is as rare as can be).
        idf = max(in_catalog) if in_catalog else statistics.idf("")
        groups.append((words, idf))
    if not groups:
        return None
    head_words = groups[head_group][0] if head_group is not None else None
    groups = sorted(groups, key=lambda g: -g[1])[:MAX_GROUPS] if len(groups) > MAX_GROUPS else groups
    total_idf = sum(idf for _words, idf in groups) or 1.0
    columns, params = [], []
    for n, (words, _idf) in enumerate(groups):
        columns.append("(" + " || ".join(f"plainto_tsquery('{TS_CONFIG}', %s)" for _ in words) + f") AS g{n}")
        params += words
    # The smallest sets of groups whose idf reaches the coverage, as an OR of ANDs.
    needed = min_coverage * total_idf - 1e-9
    sets: list[set[int]] = []
    for size in range(1, len(groups) + 1):
        for combination in itertools.combinations(range(len(groups)), size):
            if sum(groups[i][1] for i in combination) >= needed and not any(s <= set(combination) for s in sets):
                sets.append(set(combination))
    condition = " || ".join("(" + " && ".join(f"kq.g{i}" for i in sorted(s)) + ")" for s in sets)
    kinds = []
    if head_words is not None:
        kinds = query_kinds(
            statistics,
            {lexeme for group in alternatives for word in group for lexeme in found[word]},
            {lexeme for word in head_words for lexeme in found[word]},
        )
    match = f"d.document @@ ({condition})"
    if head_match and kinds:
        # The kind the query names is a category of the shop: its products, by the category facet of their search
        # documents (every ancestor is one too), exact through its GIN index; not a product filed elsewhere that
        # mentions the kind ("fits in your gym bag", a "Cordless Drill Bit Set" for "cordless drill").
        columns.append("%s::text[] AS kinds")
        params.append([f"category={path}" for path in kinds])
        match = "d.facets && kq.kinds"
    elif head_match and head_words is not None and len(groups) > 1:
        # Else the head in the name, categories or brand (weights A and B): the kind of product, not a word of its
        # description ("fits in your gym bag" does not make a bag).
        columns.append("(" + " || ".join(IN_TITLE for _ in head_words) + ") AS kind")
        params += head_words
        match = f"d.document @@ (kq.kind || {condition})"
    source = f"(SELECT {', '.join(columns)}) kq"
    # Each group's term frequency (ts_rank of the weighted document: 0 where it is absent) once per row: OFFSET 0
    # keeps the sub-select from being folded into the expressions that use it, which would repeat every ts_rank.
    ranks = ", ".join(f"ts_rank('{FIELD_WEIGHTS}', d.document, kq.g{n}) AS t{n}" for n in range(len(groups)))
    lateral = f"LATERAL (SELECT {ranks}, length(d.document) AS len OFFSET 0) kt"
    normaliser = f"(1 - {BM25_B} + {BM25_B} * kt.len / {max(statistics.mean_length, 1.0):.4f})"
    score = " + ".join(
        f"{idf:.6f} * kt.t{n} * {BM25_K1 + 1} / (kt.t{n} + {BM25_K1} * {normaliser})"
        for n, (_words, idf) in enumerate(groups)
    )
    return KeywordQuery(
        source=source,
        params=params,
        match=match,
        score="(" + score + ")",
        terms=lateral,
        words=len(groups),
        kinds=tuple(f"category={path}" for path in kinds) if head_match else (),
        every=" && ".join(f"kq.g{n}" for n in range(len(groups))),
        every_at_most=min(
            sum(max((statistics.frequencies.get(lexeme, 0) for lexeme in found[word]), default=0) for word in words)
            for words, _idf in groups
        ),
        catalog=statistics,
    )


def keyword_statistics_clear() -> None:
    """Forget this process's term statistics and word lexemes (tests, after switching databases)."""
    _Cached.statistics = None
    _Cached.vocabulary = None
    _known.clear()
