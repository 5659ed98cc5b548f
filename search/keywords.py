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

Language: words become lexemes with the documents' text search configuration (``SEARCH_TEXT_CONFIG``,
``search.documents.text_search_config``), and where the head stands is the language's (``QUERY_GRAMMARS``: last in
English, German and Dutch, "black jacket"; first in French, Spanish, Italian and Portuguese, "veste noire"). A
configuration without a grammar here ("simple", ...) names no head: a product matches by having the query's words.
"""

from __future__ import annotations

import itertools
import math
import threading
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import connection

from .documents import text_search_config, tsvector_sql
from .spelling import current_vocabulary

# BM25 parameters (Lucene's defaults).
BM25_K1 = 1.2
BM25_B = 0.75
# ts_rank weights of the document's fields, {D, C, B, A}: description and reviews, attributes, categories and
# brand, name (PostgreSQL's defaults).
FIELD_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"


@dataclass(frozen=True)
class QueryGrammar:
    """Where a language's product queries name the kind of product: the head ("last": after its modifiers, "black
    jacket"; "first": before them, "veste noire"), the words that start a complement after it ("jacket for men",
    "veste pour homme") and the words that say a size, never the kind. Words as queries are tokenized: folded,
    without accents ("fur" is "für")."""

    head: str
    prepositions: frozenset[str]
    size_words: frozenset[str]


SIZE_LETTERS = frozenset({"xxs", "xs", "xl", "xxl", "xxxl"})


def _grammar(head: str, prepositions: str, size_words: str) -> QueryGrammar:
    return QueryGrammar(head, frozenset(prepositions.split()), SIZE_LETTERS | frozenset(size_words.split()))


# By text search configuration; a configuration missing here has no head (see the module's docstring).
QUERY_GRAMMARS = {
    "english": _grammar("last", "for with without in on under from by to of", "size sizes small medium large"),
    "german": _grammar("last", "fur mit ohne in an auf unter von aus zu zum zur bei", "grosse klein mittel gross"),
    "dutch": _grammar("last", "voor met zonder in op onder van uit", "maat klein middel groot"),
    "french": _grammar("first", "pour avec sans en dans sur sous de du des par", "taille petit petite moyen grand"),
    "spanish": _grammar("first", "para con sin en de del por sobre bajo", "talla pequeno pequena mediano grande"),
    "italian": _grammar("first", "per con senza in di da su sotto", "taglia piccolo piccola medio media grande"),
    "portuguese": _grammar("first", "para com sem em de do da por sobre", "tamanho pequeno pequena medio grande"),
}
# English, as queries were always read (``head_position`` without a grammar).
QUERY_PREPOSITIONS = QUERY_GRAMMARS["english"].prepositions
SIZE_WORDS = QUERY_GRAMMARS["english"].size_words


def query_grammar() -> QueryGrammar | None:
    """The grammar of the text search configuration's language (None: no head is looked for)."""
    return QUERY_GRAMMARS.get(text_search_config().rpartition(".")[2])


def _in_title(config: str) -> str:
    """A word's tsquery restricted to the name, categories and brand (weights A and B): every lexeme of
    plainto_tsquery gets the label ":AB"."""
    return rf"regexp_replace(plainto_tsquery('{config}', %s)::text, '''(\s|$)', ''':AB\1', 'g')::tsquery"


# At most this many words take part in a query's keyword match (the rarest ones); more are ignored for
# membership. 2^10 word sets are enumerated at most.
MAX_GROUPS = 10


@dataclass(frozen=True)
class TermStatistics:
    documents: int
    mean_length: float
    frequencies: dict[str, int]  # lexeme -> documents containing it
    categories: tuple[tuple[str, int, frozenset[str]], ...] = ()  # each category's path, depth, name's lexemes
    # The catalog state they were read at, as every process names it (the vocabulary's ``identity``): what counts
    # remembered with them are shared under (``search.candidates``); None: not shared
    identity: tuple | None = None

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
            _Cached.statistics = replace(_read_statistics(), identity=vocabulary.identity)
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
        cursor.execute(f"SELECT path, depth, tsvector_to_array({tsvector_sql('name')}) FROM catalog_category")
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
    config = text_search_config()
    result = {word: _known.get((config, word)) for word in dict.fromkeys(words)}
    missing = [word for word, found in result.items() if found is None]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT w, tsvector_to_array({tsvector_sql('w', config)}) FROM unnest(%s::text[]) w",
                           [missing])  # fmt: skip
            for word, found in cursor.fetchall():
                result[word] = tuple(found)
                _remember((config, word), result[word])
    return {word: result[word] or () for word in words}


_known: dict[tuple[str, str], tuple[str, ...]] = {}  # (configuration, word) -> lexemes
KNOWN_WORDS_KEEP = 100_000


def _remember(key: tuple[str, str], found: tuple[str, ...]) -> None:
    if len(_known) >= KNOWN_WORDS_KEEP:
        _known.clear()
    _known[key] = found


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


def head_position(tokens: list[str], grammar: QueryGrammar | None = None) -> int:
    """The position of a query's head word, the product it names (in English: ``grammar`` None): the last word, or
    the last one before a preposition that starts a complement ("jacket for men", "tent with porch"), skipping
    numbers, sizes and single letters ("pants 32", "hoodie size m"). Modifiers before it (colours, materials,
    brands) narrow the kind; the head is the kind. In a head-first language, the first such word ("veste noire")."""
    grammar = grammar or QUERY_GRAMMARS["english"]
    end = len(tokens)
    for position, token in enumerate(tokens):
        if token in grammar.prepositions and position > 0:
            end = position
            break
    order = range(end) if grammar.head == "first" else range(end - 1, -1, -1)
    for position in order:
        if _may_be_head(tokens[position], grammar):
            return position
    return 0 if grammar.head == "first" else end - 1


def _may_be_head(token: str, grammar: QueryGrammar) -> bool:
    return token.isalpha() and len(token) >= 3 and token not in grammar.size_words


def _head_group(positions: list[int], head: int | None, grammar: QueryGrammar | None) -> int | None:
    """Which word group (by the positions of their words) holds the head: the head's, else, when the head has no
    lexeme, the nearest group on the side of its modifiers (before it when the head comes last, after it when it
    comes first), else the nearest on the other side."""
    if head is None or grammar is None or not positions:
        return None
    if grammar.head == "first":
        after = [n for n, position in enumerate(positions) if position >= head]
        return after[0] if after else len(positions) - 1
    before = [n for n, position in enumerate(positions) if position <= head]
    return before[-1] if before else 0


def keyword_query(
    alternatives: list[list[str]], *, min_coverage: float | None = None, head_match: bool | None = None
) -> KeywordQuery | None:
    """The keyword signal of a query (its word groups in query order, each the word and its corrections); None
    when no word has a lexeme (only stop words)."""
    min_coverage = settings.SEARCH_KEYWORD_MIN_COVERAGE if min_coverage is None else min_coverage
    head_match = settings.SEARCH_KEYWORD_HEAD_MATCH if head_match is None else head_match
    statistics = term_statistics()
    config = text_search_config()
    found = lexemes([word for group in alternatives for word in group])
    grammar = query_grammar()
    head = head_position([group[0] for group in alternatives], grammar) if alternatives and grammar else None
    groups: list[tuple[list[str], float]] = []
    positions: list[int] = []  # each group's word's position in the query
    for position, group in enumerate(alternatives):
        words = [word for word in group if found[word]]
        if not words:
            continue
        positions.append(position)
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
    head_group = _head_group(positions, head, grammar)
    head_words = groups[head_group][0] if head_group is not None else None
    groups = sorted(groups, key=lambda g: -g[1])[:MAX_GROUPS] if len(groups) > MAX_GROUPS else groups
    total_idf = sum(idf for _words, idf in groups) or 1.0
    columns, params = [], []
    for n, (words, _idf) in enumerate(groups):
        columns.append("(" + " || ".join(f"plainto_tsquery('{config}', %s)" for _ in words) + f") AS g{n}")
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
        columns.append("(" + " || ".join(_in_title(config) for _ in head_words) + ") AS kind")
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
