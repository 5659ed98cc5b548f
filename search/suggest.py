"""Autocomplete: completions of what a shopper has typed so far, and the top few products
(``GET /api/v1/suggest``), answered from an in-process prefix index and one primary-key read of the products' cards.

What is suggested, in this order (``suggest``):

1. **popular queries**: what shoppers searched for and found (``QuerySuggestion`` rows, refreshed from the search
   log by ``query_suggestions_refresh``): at least ``SEARCH_SUGGEST_MIN_SEARCHES`` first-page searches with results
   in the last ``SEARCH_SUGGEST_WINDOW_DAYS`` days, and the latest unfiltered one still had results; most searched
   first;
2. **categories** whose name matches, most products first (only inside an API key's category);
3. **catalog words** completing the last word typed ("red hoo" -> "red hoodie"): the words of product names,
   brands, category names and attribute values (the part of the spelling vocabulary shoppers type; descriptions
   are left out: "however" is no completion), most frequent first;
4. **product names**, most reviewed in-stock products first.

The products are those of the matching names; when no name has every word typed, those of the names that have the
last ones ("burlap bag": the bags), as Typesense drops words from a query that finds nothing.

A merchandiser can hide any text (``query_suggestion_hide``): it is never suggested, whichever source offers it.

**Matching.** Texts are folded as the spelling vocabulary folds them (``search.spelling.tokenize``: lower case,
accents and symbols off, words joined by one space). A suggestion matches when the typed text is a prefix of it
from any of its first ``MAX_WORD_STARTS`` words ("hoo" finds "pullover hoodie"; a match at the start ranks first).
When fewer than the wanted number match exactly, typo-tolerant prefixes are tried: the earlier words are replaced
by their spelling corrections, and the last word (4 characters or more) by every string one edit away (deletion,
adjacent transposition, substitution, insertion: "hodie" finds "hoodie", "jakc" finds "jacket"; a last word of 6
and more also by its whole-word corrections, 2 edits). Only strings that prefix some indexed text are looked up.

**Speed.** Each kind of suggestion is a sorted list of (text from a word start, entry) pairs: a prefix is a range
found by two bisections; a range of up to ``HEAVY_RANGE`` pairs is scanned, a longer one (short prefixes: "h") has
its best ``TOP_KEEP`` entries precomputed when the index is built. The products are the best-ranked products of
the matching names (the best of each name first, so the list is not four copies of one product), their cards read
in one primary-key query and kept for the next shopper who types the same. An API key's filters are applied in
the index (the ids they admit are read once per index and filter set: a filter admitting few products gets a names
index of its own) and again in that query. At 50,000 products (bench/suggest_latency.py) a suggestion takes well
under a millisecond of Python; the index is built in a few seconds and holds about 22 MB.

**Freshness.** Each process holds one index. Its catalog part is rebuilt when the catalog changes (the spelling
vocabulary's version, bumped after every product change; a deletion bumps the suggestions' own) and at least every
``INDEX_MAX_AGE_SECONDS``: in the request that sees the change when the last build took under
``INLINE_BUILD_SECONDS``, else in a background thread while the previous index answers. A change of the
suggestions alone (a recount, a hide: ``suggest_index_invalidate``) only reads the popular queries and hidden texts
again. Versions are read from Redis at most every ``VERSION_CHECK_SECONDS``. The popular queries are recounted by
a beat task every 10 minutes (``search.refresh_suggestions``). A new generation changes none of it: the
suggestions come from the catalog's texts and the search log, not from vectors.
"""

from __future__ import annotations

import copy
import functools
import heapq
import html
import logging
import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from shop_search.db import read_connection

from .cards import product_card
from .documents import TS_CONFIG
from .filters import Filters, filters_sql
from .models import QuerySuggestion
from .spelling import VOCABULARY_VERSION_KEY, allowed_distance, current_vocabulary, tokenize

logger = logging.getLogger(__name__)

KINDS = ("query", "category", "word", "product")
# A suggestion matches from any of its first MAX_WORD_STARTS words (each start is one more pair in the index).
MAX_WORD_STARTS = 5
# A prefix range longer than this has its best entries precomputed; a shorter one is scanned (about 40 us).
HEAVY_RANGE = 256
TOP_KEEP = 48  # entries kept per precomputed range: more than any request asks for, with room for hidden ones
START_BONUS = 1e15  # a match from a suggestion's first word ranks above every match from a later word
MIN_WORD_LENGTH = 3  # shorter words are typed in full
# Products: the names of at most this many candidates are looked at; twice the wanted products are read from
# the database (one primary-key query, about 0.3 ms), and the answer kept for the next shopper typing the same
# (up to PRODUCT_LISTS_KEEP answers per index, ~1 KB each).
PRODUCT_CANDIDATES = 48
PRODUCT_LISTS_KEEP = 4096
# Categories and product names take at most this many of the suggestions; popular queries and words the rest.
CATEGORIES_MAX = 3
NAMES_MAX = 2
SUGGEST_MAX_QUERY_LENGTH = 100  # past this a shopper is no longer typing ahead
QUERIES_KEEP = 5000  # popular queries kept by a refresh (most searched with results first)

SUGGEST_VERSION_KEY = "search:suggest-version"
# The catalog part is rebuilt at least this often (a safety net: changes bump versions in Redis, unless it was down);
# 2-5 s of a process's time at 50,000 products.
INDEX_MAX_AGE_SECONDS = 900
VERSION_CHECK_SECONDS = 1.0
# A rebuild that took less than this last time is done in the request that sees the change (small catalogs, tests);
# a longer one in a background thread (2-3 s at 50,000 products).
INLINE_BUILD_SECONDS = 0.25
_MAX_CHAR = "\U0010ffff"


def normalize_query(text: str) -> str:
    """A query as the search log keeps it (``SearchLog.normalized_query``): lower case, single spaces."""
    return " ".join(text.lower().split())[:256]


# ASCII symbols ($ + < = > ^ ` | ~), which folding removes (``search.spelling``: "a|b" is one word "ab").
_ASCII_SYMBOLS = {code: None for code in range(128) if unicodedata.category(chr(code)).startswith("S")}
_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """``search.spelling.tokenize``, faster for ASCII text (most of a catalog's; the index folds every text)."""
    if text.isascii():
        return _WORD.findall(text.translate(_ASCII_SYMBOLS).lower())
    return tokenize(text)


def fold(text: str) -> str:
    """The index's form of a text: its folded words joined by one space."""
    return " ".join(tokens(text))


# --- the prefix index of one kind ----------------------------------------------------------------------------


class PrefixIndex:
    """Entries (folded key, score) findable by a prefix of their key from any of its first ``MAX_WORD_STARTS``
    words (``skip_starts``: words that never start a match, such as stop words). ``best(prefix, k)``: the ``k``
    best entries as (score, entry id), best first; ties in key order."""

    def __init__(self, keys: list[str], scores: list[float], skip_starts: frozenset[str] = frozenset()):
        pairs = []
        for entry_id, (key, score) in enumerate(zip(keys, scores, strict=True)):
            words = key.split(" ")
            starts = 0
            for position, word in enumerate(words):
                if position and word in skip_starts:
                    continue
                suffix = key if position == 0 else " ".join(words[position:])
                pairs.append((suffix, score + START_BONUS if position == 0 else score, entry_id))
                starts += 1
                if starts == MAX_WORD_STARTS:
                    break
        pairs.sort(key=lambda pair: pair[0])
        self.keys = [pair[0] for pair in pairs]
        self._scores = array("d", [pair[1] for pair in pairs])
        self._entries = array("l", [pair[2] for pair in pairs])
        self._top = self._heavy_tops()

    def __len__(self) -> int:
        return len(self.keys)

    def range(self, prefix: str) -> tuple[int, int]:
        low = bisect_left(self.keys, prefix)
        return low, bisect_left(self.keys, prefix + _MAX_CHAR, low)

    def best(self, prefix: str, k: int, *, exhaustive: bool = False, accept=None) -> list[tuple[float, int]]:
        """The ``k`` best entries that ``accept`` (entry -> bool) takes, if given: from the precomputed best of a
        long range (unless ``exhaustive``), else from a scan of the range."""
        low, high = self.range(prefix)
        if high - low > HEAVY_RANGE and not exhaustive:
            top = self._top.get(prefix)
            if top is not None:
                return top[:k] if accept is None else [pair for pair in top if accept(pair[1])][:k]
        if accept is None:
            return self._best_in(low, high, k)
        best: dict[int, float] = {}
        scores, entries = self._scores, self._entries
        for i in range(low, high):
            entry, score = entries[i], scores[i]
            if score > best.get(entry, -1.0) and accept(entry):
                best[entry] = score
        return self._ranked(best, k)

    def is_long(self, prefix: str) -> bool:
        """Whether ``best`` answers ``prefix`` from precomputed entries (at most ``TOP_KEEP``)."""
        low, high = self.range(prefix)
        return high - low > HEAVY_RANGE

    def _collect(self, best: dict[int, float], low: int, high: int) -> None:
        scores, entries = self._scores, self._entries
        for i in range(low, high):
            entry, score = entries[i], scores[i]
            if score > best.get(entry, -1.0):
                best[entry] = score

    @staticmethod
    def _ranked(best: dict[int, float], k: int) -> list[tuple[float, int]]:
        return [(score, -negative) for score, negative in heapq.nlargest(k, ((s, -e) for e, s in best.items()))]

    def _best_in(self, low: int, high: int, k: int) -> list[tuple[float, int]]:
        best: dict[int, float] = {}
        self._collect(best, low, high)
        return self._ranked(best, k)

    def _heavy_tops(self) -> dict[str, list[tuple[float, int]]]:
        """The best ``TOP_KEEP`` entries of every prefix whose range is longer than ``HEAVY_RANGE``: the prefixes
        are found by splitting heavy ranges on their next character (a heavy prefix only has heavy ancestors), and
        each range's best come from its children's (heavy: already computed; light: scanned), deepest first, so
        every pair is scanned about once."""
        keys = self.keys
        nodes = []  # (prefix, low, end of the keys equal to the prefix, children as (prefix, low, high))
        stack = [("", 0, len(keys))] if len(keys) > HEAVY_RANGE else []
        while stack:
            prefix, low, high = stack.pop()
            depth = len(prefix)
            i = low
            while i < high and len(keys[i]) == depth:
                i += 1
            equal_end = i
            children = []
            while i < high:
                child = prefix + keys[i][depth]
                j = bisect_left(keys, child + _MAX_CHAR, i, high)
                children.append((child, i, j))
                if j - i > HEAVY_RANGE:
                    stack.append((child, i, j))
                i = j
            nodes.append((prefix, low, equal_end, children))
        tops: dict[str, list[tuple[float, int]]] = {}
        for prefix, low, equal_end, children in reversed(nodes):  # children were appended after their parent
            best: dict[int, float] = {}
            self._collect(best, low, equal_end)
            for child, child_low, child_high in children:
                if child_high - child_low > HEAVY_RANGE:
                    for score, entry in tops[child]:
                        if score > best.get(entry, -1.0):
                            best[entry] = score
                else:
                    self._collect(best, child_low, child_high)
            tops[prefix] = self._ranked(best, TOP_KEEP)
        return tops


# --- the whole index -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    text: str
    kind: str  # one of KINDS
    category: str | None = None  # kind "category": the path to browse
    typo: bool = False  # found by typo-tolerant matching
    key: str = field(default="", compare=False, repr=False)  # the folded text


@dataclass(frozen=True)
class Suggestions:
    completions: list[Completion]
    products: list[dict] = field(default_factory=list)


@dataclass
class _Kind:
    keys: list[str]
    texts: list[str]
    index: PrefixIndex
    # per entry: a category's path; a name's products as (ids, scores), best first
    extra: list = field(default_factory=list)


def _kind(items: list[tuple[str, str, float, object]], skip_starts: frozenset[str], *,
          by_extra: bool = False) -> _Kind:  # fmt: skip
    """A kind's entries from (key, text, score, extra), one entry per key (the best scored), or with ``by_extra``
    per (key, extra): categories of one name under different parents ("Men/Jackets", "Women/Jackets")."""
    best: dict[tuple, tuple[str, str, float, object]] = {}
    for item in items:
        identity = (item[0], item[3]) if by_extra else (item[0],)
        if item[0] and (identity not in best or item[2] > best[identity][2]):
            best[identity] = item
    entries = [best[identity] for identity in sorted(best)]
    keys = [entry[0] for entry in entries]
    return _Kind(
        keys=keys,
        texts=[entry[1] for entry in entries],
        index=PrefixIndex(keys, [entry[2] for entry in entries], skip_starts),
        extra=[entry[3] for entry in entries],
    )


def _product_score(in_stock: bool, rating_count: int) -> float:
    """In-stock products first, then the most reviewed (the storefront's browsing order)."""
    return (1e9 if in_stock else 0.0) + min(rating_count or 0, 999_999_999)


@dataclass
class _Names:
    """The product names (and their products) that a filter set admits: the whole kind without filters; a kind of
    their own when they are few (``SUBINDEX_SHARE``); else the whole kind read through ``admitted`` (one byte per
    product id: whether the filters admit it)."""

    kind: _Kind
    admitted: bytearray | None = None

    def products_of(self, entry: int) -> tuple[int, ...]:
        ids = self.kind.extra[entry][0]
        admitted = self.admitted
        if admitted is None:
            return ids
        return tuple(i for i in ids if i < len(admitted) and admitted[i])

    def accepts(self, entry: int) -> bool:
        admitted = self.admitted
        return admitted is None or any(i < len(admitted) and admitted[i] for i in self.kind.extra[entry][0])


# A filter set admitting at most this share of the products gets a names index of its own (built at its first
# suggestion, ~40 ms per 1,000 products); a larger one reads the whole index, skipping the products it does not admit.
SUBINDEX_SHARE = 0.1
FILTER_SETS_KEEP = 32  # filter sets (API keys' restrictions) remembered per index
FOLLOWS_KEEP = 64  # the products that have the words typed before the last, per those words (a set of ids each)


class SuggestIndex:
    """Every kind of suggestion, each a ``PrefixIndex``: the catalog's (categories, words, product names), built
    from the catalog, and the popular queries, which a change of the suggestions alone replaces
    (``with_queries``). Hidden texts are left out of the queries and skipped among the others when answering."""

    def __init__(self, *, queries: list[tuple[str, int]], categories: list[tuple[str, str, int]],
                 words: dict[str, int], products: list[tuple[int, str, bool, int]], hidden: set[str] = frozenset(),
                 stop_words: frozenset[str] = frozenset(), postings: dict[str, array] | None = None):  # fmt: skip
        """``queries``: (normalised query, searches with results); ``categories``: (path, name, products);
        ``words``: word -> products that have it; ``products``: (id, name, in_stock, rating_count); ``hidden``:
        folded texts never suggested; ``postings``: word -> the ids of the products that have it, ascending (a
        completed word must share a product with the words typed before it: "yoga p" completes to "yoga pant", not
        to a word no yoga product has)."""
        self.stop_words = stop_words
        kinds = {
            "category": [
                (fold(html.unescape(name)), html.unescape(name), float(n), path) for path, name, n in categories if n
            ],  # fmt: skip
            "word": [
                (w, w, float(n), None)
                for w, n in words.items()
                if len(w) >= MIN_WORD_LENGTH and not w.isdigit() and w not in stop_words
            ],  # fmt: skip
        }
        names: dict[str, list[tuple[float, int]]] = {}
        display: dict[str, str] = {}
        folded: dict[str, str] = {}  # names repeat: fold each once
        for product_id, name, in_stock, rating_count in products:
            key = folded.get(name)
            if key is None:
                text = html.unescape(name or "")
                key = folded[name] = fold(text)
                display.setdefault(key, text)
            names.setdefault(key, []).append((_product_score(in_stock, rating_count), product_id))
        kinds["product"] = []
        for key, scored in names.items():
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            ids, scores = tuple(pid for _, pid in scored), tuple(score for score, _ in scored)
            kinds["product"].append((key, display[key], scores[0], (ids, scores)))
        self.kinds: dict[str, _Kind] = {
            kind: _kind(items, stop_words if kind != "word" else frozenset(), by_extra=kind == "category")
            for kind, items in kinds.items()
        }
        self.catalog_keys = sorted({key for kind in self.kinds.values() for key in kind.index.keys})
        self.alphabet = "".join(sorted({ch for key in self.kinds["word"].texts for ch in key} - {" "}))
        self.known_words = frozenset(words) | stop_words  # every catalog word, short ones included
        self.products = len(products)
        self.max_product_id = max((row[0] for row in products), default=0)
        self._filtered: dict[tuple, _Names] = {}
        self.postings = postings
        self._follows: dict[str, object] = {}
        self.product_lists: dict[tuple, list[dict]] = {}  # the products answered, by candidates and filters
        self._queries_set(queries, hidden)

    def _queries_set(self, queries: list[tuple[str, int]], hidden: set[str]) -> None:
        self.hidden = frozenset(hidden)
        items = [(key, q, float(n), None) for q, n in queries if (key := fold(q)) not in self.hidden]
        self.kinds["query"] = _kind(items, self.stop_words)
        self.query_keys = self.kinds["query"].index.keys

    def with_queries(self, queries: list[tuple[str, int]], hidden: set[str]) -> SuggestIndex:
        """This index with other popular queries and hidden texts (the catalog's kinds shared)."""
        index = copy.copy(self)
        index.kinds = dict(self.kinds)
        index._queries_set(queries, hidden)
        return index

    def __len__(self) -> int:
        return sum(len(kind.texts) for kind in self.kinds.values())

    def follows(self, head: str):
        """A test (word -> bool) of whether some product has ``head``'s words (stop words aside) and the word; None
        when there is nothing to test."""
        if self.postings is None or not head:
            return None
        test = self._follows.get(head)
        if test is not None:
            return test
        shared: set[int] | None = None
        for word in head.split(" "):
            if word in self.stop_words:
                continue
            ids = self.postings.get(word, ())
            shared = set(ids) if shared is None else shared.intersection(ids)
            if not shared:
                break
        if shared is None:
            return None
        postings = self.postings

        def test(word: str) -> bool:
            ids = postings.get(word, ())
            if len(shared) * 20 < len(ids):  # few products have the words before: look each up in the word's
                return any(_contains(ids, product_id) for product_id in shared)
            return not shared.isdisjoint(ids)

        if len(self._follows) >= FOLLOWS_KEEP:
            self._follows.clear()
        self._follows[head] = test
        return test

    def prefixes_anything(self, prefix: str) -> bool:
        for keys in (self.catalog_keys, self.query_keys):
            at = bisect_left(keys, prefix)
            if at < len(keys) and keys[at].startswith(prefix):
                return True
        return False

    def names_for(self, filters: Filters) -> _Names:
        """The product names ``filters`` admit (remembered per filter set: one query at its first use)."""
        where, params = filters_sql(filters)
        if where == "true":
            return _Names(self.kinds["product"])
        identity = (where, tuple(str(param) for param in params))
        names = self._filtered.get(identity)
        if names is not None:
            return names
        admitted = bytearray(self.max_product_id + 1)
        with read_connection().cursor() as cursor:
            cursor.execute(f"SELECT p.id FROM catalog_product p WHERE {where} AND p.id <= %s",
                           [*params, self.max_product_id])  # fmt: skip
            count = 0
            for (product_id,) in cursor.fetchall():
                admitted[product_id] = 1
                count += 1
        names = _Names(self.kinds["product"], admitted)
        if count <= SUBINDEX_SHARE * self.products:
            items = []
            whole = self.kinds["product"]
            for entry, (ids, scores) in enumerate(whole.extra):
                kept = [(product_id, score) for product_id, score in zip(ids, scores, strict=True)
                        if admitted[product_id]]  # fmt: skip
                if kept:
                    extra = (tuple(p for p, _ in kept), tuple(s for _, s in kept))
                    items.append((whole.keys[entry], whole.texts[entry], kept[0][1], extra))
            names = _Names(_kind(items, self.stop_words), admitted)
        if len(self._filtered) >= FILTER_SETS_KEEP:
            self._filtered.clear()
        self._filtered[identity] = names
        return names

    @classmethod
    def from_database(cls) -> SuggestIndex:
        """Read from the catalog and the query suggestions: 5 queries."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT path, name FROM catalog_category")
            category_names = dict(cursor.fetchall())
            cursor.execute(_PRODUCTS_SQL)
            rows = cursor.fetchall()
        words_of = functools.lru_cache(maxsize=None)(lambda text: tuple(tokens(html.unescape(text or ""))))
        ancestors_of = functools.lru_cache(maxsize=None)(
            lambda path: tuple("/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 2))
        )
        path_words = functools.lru_cache(maxsize=None)(
            lambda path: frozenset(w for a in ancestors_of(path) for w in words_of(category_names.get(a, "")))
        )
        # Each product's words (of its name, brand, categories with their ancestors and attribute values), as
        # postings: word -> the products that have it, ascending.
        postings: dict[str, list[int]] = {}
        in_category: Counter[str] = Counter()
        for product_id, name, _, _, brand, values, paths in rows:
            words = {*words_of(name), *words_of(brand), *tokens(values or "")}
            ancestors = set()
            for path in paths:
                words |= path_words(path)
                ancestors.update(ancestors_of(path))
            in_category.update(ancestors)
            for word in words:
                postings.setdefault(word, []).append(product_id)
        queries, hidden = _queries_and_hidden()
        counts = {word: len(ids) for word, ids in postings.items()}
        return cls(
            queries=queries,
            categories=[(path, category_names[path], n) for path, n in in_category.items() if path in category_names],
            words=counts,
            products=[row[:4] for row in rows],
            hidden=hidden,
            stop_words=_stop_words(counts),
            postings={word: array("q", ids) for word, ids in postings.items()},
        )


def _queries_and_hidden() -> tuple[list[tuple[str, int]], set[str]]:
    """The popular queries offered, with their searches, and the hidden texts (folded): 2 queries."""
    queries = list(QuerySuggestion.objects.offered().values_list("query", "searches_with_results"))
    hidden = {fold(text) for text in QuerySuggestion.objects.filter(hidden=True).values_list("query", flat=True)}
    return queries, hidden


def _contains(ids: array, value: int) -> bool:
    at = bisect_left(ids, value)
    return at < len(ids) and ids[at] == value


# Every product with its attribute values (flags are no words, as in search.documents and search.spelling) and
# category paths, by id.
_PRODUCTS_SQL = """
SELECT p.id, p.name, p.in_stock, p.rating_count, p.brand,
       (SELECT string_agg(a.value, ' ')
        FROM jsonb_each_text(CASE WHEN jsonb_typeof(p.attributes) = 'object' THEN p.attributes ELSE '{}'::jsonb END) a
        WHERE lower(a.value) NOT IN ('yes', 'no', 'true', 'false') AND length(a.value) <= 200),
       ARRAY(SELECT c.path FROM catalog_productcategory pc JOIN catalog_category c ON c.id = pc.category_id
             WHERE pc.product_id = p.id)
FROM catalog_product p
ORDER BY p.id
"""


def _stop_words(words: Counter[str] | dict[str, int]) -> frozenset[str]:
    """The words the full-text configuration drops ("for", "with", "the"): no completion, and no match starts at
    them."""
    if not words:
        return frozenset()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w FROM unnest(%s::text[]) w WHERE to_tsvector('{TS_CONFIG}', w) = ''::tsvector", [list(words)]
        )
        return frozenset(row[0] for row in cursor.fetchall())


# --- answering -----------------------------------------------------------------------------------------------


def _edits(word: str, alphabet: str) -> list[str]:
    """Prefixes one edit from ``word`` (a prefix being typed): deletions, adjacent transpositions, substitutions and
    insertions, except those a prefix match already covers (an insertion after the last character; a
    substitution of the last character, which deleting it covers)."""
    found = []
    for i in range(len(word)):
        head, tail = word[:i], word[i:]
        found.append(head + tail[1:])
        if len(tail) > 1:
            found.append(head + tail[1] + tail[0] + tail[2:])
            found.extend(head + ch + tail[1:] for ch in alphabet if ch != tail[0])
        found.extend(head + ch + tail for ch in alphabet)
    return found


@dataclass
class _Match:
    prefix: str  # the folded text looked up in the phrase kinds (query, category, product)
    head: str  # the words before the last (with the word kind: what a completed word is appended to)
    last: str  # the last word, as looked up in the word kind ("" when the text ends with a space)
    typo: bool


@dataclass
class _Typed:
    words: list[str]  # folded
    complete: bool  # the text ends with a space: its last word is whole

    @property
    def head(self) -> list[str]:
        return self.words[:-1]

    @property
    def last(self) -> str:
        return self.words[-1]

    @property
    def prefix(self) -> str:
        return " ".join(self.words) + (" " if self.complete else "")


def _exact_match(index: SuggestIndex, typed: _Typed) -> _Match:
    head_known = all(word in index.known_words for word in typed.head)
    # A word completes the last word only after known words: "bleu hoo" is completed as "blue hoo" (a typo).
    last = "" if typed.complete or not head_known else typed.last
    return _Match(typed.prefix, " ".join(typed.head), last, False)


def _typo_matches(index: SuggestIndex, typed: _Typed) -> list[_Match]:
    """The typo-tolerant alternatives of the typed text that prefix something indexed."""
    last, complete = typed.last, typed.complete
    vocabulary = None
    corrected_head = []
    for word in typed.head:
        if word in index.known_words:
            corrected_head.append(word)
            continue
        vocabulary = vocabulary or current_vocabulary()
        corrected_head.append((vocabulary.corrections(word, 1) or [word])[0])
    typo_head = " ".join(corrected_head)
    lasts: list[str] = []
    if allowed_distance(last) and not last.isdigit():
        if not complete:
            lasts += _edits(last, index.alphabet)
        if len(last) >= 6 or complete:
            vocabulary = vocabulary or current_vocabulary()
            lasts += [word for word in vocabulary.corrections(last, 3) if word != last]
    if corrected_head != typed.head:
        lasts.insert(0, last)
    alternatives, seen = [], {typed.prefix}
    joiner = typo_head + " " if typo_head else ""
    end = " " if complete else ""
    for variant in lasts:
        prefix = joiner + variant + end
        if prefix in seen:
            continue
        seen.add(prefix)
        if index.prefixes_anything(prefix):
            alternatives.append(_Match(prefix, typo_head, "" if complete else variant, True))
    return alternatives


def _completions_of(kind: str, data: _Kind, matches: list[_Match], k: int, *, accept=None, accept_for=None,
                    need: int = 0) -> list[tuple[Completion, int]]:  # fmt: skip
    """Up to ``k`` completions of one kind over the matches (the exact one first), with their entry ids. With
    ``accept`` (entry -> bool), or ``accept_for`` (match -> such a test or None), only accepted entries; when fewer
    than ``need`` are accepted among the precomputed best of a long range, the range is scanned."""
    filtered = accept is not None or accept_for is not None
    for exhaustive in (False, True):
        found: list[tuple[Completion, int]] = []
        seen: set[int] = set()
        truncated = False
        for match in matches:
            looked_up = match.last if kind == "word" else match.prefix
            if not looked_up:
                continue
            if accept_for is not None:
                accept = accept_for(match)
            if accept is not None:
                truncated = truncated or data.index.is_long(looked_up)
            for _, entry in data.index.best(looked_up, k + 1, exhaustive=exhaustive, accept=accept):
                if entry in seen:
                    continue
                seen.add(entry)
                text, key = data.texts[entry], data.keys[entry]
                if kind == "word" and match.head:
                    text = key = f"{match.head} {key}"
                category = data.extra[entry] if kind == "category" else None
                found.append((Completion(text=text, kind=kind, category=category, typo=match.typo, key=key), entry))
            if len(found) >= k:
                break
        if not filtered or len(found) >= need or not truncated:
            break
    return found[:k]


def suggest(text: str, *, filters: Filters | None = None, limit: int = 8, product_limit: int = 4) -> Suggestions:
    """Completions of ``text`` (popular queries, categories, words, product names: at most ``limit``) and the top
    ``product_limit`` products under ``filters`` (an API key's: its products and their names only, categories
    only in its category). Typo-tolerant matches come in when exact ones are fewer than ``limit``."""
    filters = filters or Filters()
    words = tokens(text)
    if not words:
        return Suggestions(completions=[])
    typed = _Typed(words, text[-1:].isspace())
    index = current_index()
    names = index.names_for(filters)
    need = max(product_limit, NAMES_MAX)
    exact = _exact_match(index, typed)
    completions, entries = _choose(index, names, [exact], limit, filters, need)
    if len(completions) < limit or (product_limit and not entries):
        alternatives = _typo_matches(index, typed)
        if len(completions) < limit and alternatives:
            completions, entries = _choose(index, names, [exact, *alternatives], limit, filters, need)
        elif alternatives:  # products of a misspelt name
            entries = [entry for _, entry in _name_completions(names, alternatives, need)]
    for start in range(1, len(words)):  # no name has every word: the products of the last ones
        if entries or not product_limit:
            break
        shorter = _exact_match(index, _Typed(words[start:], typed.complete))
        entries = [entry for _, entry in _name_completions(names, [shorter], need)]
    products = _products(index, names, entries, filters, product_limit) if product_limit else []
    return Suggestions(completions=completions, products=products)


def _choose(index: SuggestIndex, names: _Names, matches: list[_Match], limit: int, filters: Filters,
            need: int) -> tuple[list[Completion], list[int]]:  # fmt: skip
    """(the completions to show, the matching product-name entries, best first)."""
    queries = _completions_of("query", index.kinds["query"], matches, limit)
    categories = [c for c, _ in _completions_of("category", index.kinds["category"], matches,
                                                CATEGORIES_MAX if not filters.category else CATEGORIES_MAX * 4)
                  if not filters.category or _within(c.category, filters.category)][:CATEGORIES_MAX]  # fmt: skip
    word_keys = index.kinds["word"].keys

    def completes(match: _Match):  # a word completes the last only where a product has it with the words before
        test = index.follows(match.head)
        return None if test is None else (lambda entry: test(word_keys[entry]))

    words = _completions_of("word", index.kinds["word"], matches, limit, accept_for=completes, need=1)
    found = _name_completions(names, matches, need)
    picked: list[Completion] = [c for c, _ in queries] + categories
    name_room = min(NAMES_MAX, len(found), max(0, limit - len(picked)))
    picked += [c for c, _ in words][: max(0, limit - len(picked) - name_room)]
    picked += [c for c, _ in found][:name_room]
    completions, seen = [], set()
    for completion in picked:
        identity = (completion.key, completion.category)
        if identity in seen or completion.key in index.hidden:
            continue
        seen.add(identity)
        completions.append(completion)
    return completions[:limit], [entry for _, entry in found]


def _name_completions(names: _Names, matches: list[_Match], need: int) -> list[tuple[Completion, int]]:
    """Up to ``PRODUCT_CANDIDATES`` + 1 product names (one more: are there more?), at least ``need`` of them admitted
    by the filters where there are."""
    accept = names.accepts if names.admitted is not None else None
    return _completions_of("product", names.kind, matches, PRODUCT_CANDIDATES + 1, accept=accept, need=need)


def _within(path: str | None, category: str) -> bool:
    return path is not None and (path == category or path.startswith(category + "/"))


def _products(index: SuggestIndex, names: _Names, entries: list[int], filters: Filters, limit: int) -> list[dict]:
    """The best products of the matching names, the best of each name first (then the second of each...), read
    with the filters (which admitted them already: checked again, the catalog may have changed since). Remembered
    by the index (shoppers type the same prefixes; a product change rebuilds the index)."""
    candidates: list[int] = []
    lists = [names.products_of(entry) for entry in entries]
    depth = 0
    while len(candidates) < limit * 2 and lists:
        lists = [ids for ids in lists if len(ids) > depth]
        for ids in lists:
            candidates.append(ids[depth])
        depth += 1
    candidates = candidates[: limit * 2]  # twice: a product may have gone since the index was built
    if not candidates:
        return []
    where, params = filters_sql(filters)
    identity = (tuple(candidates), limit, where, tuple(str(param) for param in params))
    known = index.product_lists.get(identity)
    if known is not None:
        return known
    with read_connection().cursor() as cursor:
        if where == "true":
            cursor.execute(
                "SELECT product_id, card::text FROM search_searchdocument WHERE product_id = ANY(%s)", [candidates]
            )
        else:
            cursor.execute(
                "SELECT d.product_id, d.card::text FROM search_searchdocument d JOIN catalog_product p "
                f"ON p.id = d.product_id WHERE d.product_id = ANY(%s) AND {where}",
                [candidates, *params],
            )
        cards = dict(cursor.fetchall())
    ordered = [product_id for product_id in candidates if product_id in cards][:limit]
    products = [_product_output(product_card(product_id, cards[product_id])) for product_id in ordered]
    if len(index.product_lists) >= PRODUCT_LISTS_KEEP:
        index.product_lists.clear()  # a flood of distinct prefixes only makes the next ones read again
    index.product_lists[identity] = products
    return products


def _product_output(product: dict) -> dict:
    return {
        "sku": product["sku"],
        "name": html.unescape(product["name"] or ""),
        "price": product["price"],
        "currency": product["currency"],
        "in_stock": product["in_stock"],
        "brand": product["brand"],
        "category": product["category"],
        "photo_url": product["photo_url"],
    }


# --- the index of this process ---------------------------------------------------------------------------------


class _Current:
    lock = threading.Lock()
    index: SuggestIndex | None = None
    version: object = None
    built_at = 0.0
    checked_at = 0.0
    build_seconds = 0.0


def _read_version() -> tuple[bool, object]:
    """(whether the cache answered, the catalog's and the suggestions' versions)."""
    try:
        found = cache.get_many([VOCABULARY_VERSION_KEY, SUGGEST_VERSION_KEY])
    except Exception:  # noqa: BLE001 - a cache failure means "version unknown", never a failed request
        return False, None
    return True, (found.get(VOCABULARY_VERSION_KEY), found.get(SUGGEST_VERSION_KEY))


def _build(version: object, answered: bool) -> SuggestIndex:
    started = time.monotonic()
    index = SuggestIndex.from_database()
    _Current.index = index
    _Current.built_at = started
    _Current.build_seconds = time.monotonic() - started
    if answered:
        _Current.version = version
    logger.info("suggestion index built: %d entries in %.2f s", len(index), _Current.build_seconds)
    return index


def _build_in_background(version: object, answered: bool) -> None:
    def run() -> None:
        try:
            _build(version, answered)
        except Exception:  # noqa: BLE001 - the previous index keeps answering; the next check tries again
            logger.exception("rebuilding the suggestion index failed")
        finally:
            _Current.lock.release()
            connection.close()  # this thread's own connection

    threading.Thread(target=run, name="suggest-index", daemon=True).start()


def current_index() -> SuggestIndex:
    """This process's index: built at first use (the request waits). Rebuilt when the catalog's version changed or
    it is older than ``INDEX_MAX_AGE_SECONDS``: in the request when the last build took under
    ``INLINE_BUILD_SECONDS`` (a small catalog: the change shows at once), else in a background thread while the
    previous index answers; one build at a time. When only the suggestions' version changed, its queries and hidden
    texts are read again in the request (milliseconds)."""
    index = _Current.index
    now = time.monotonic()
    fresh = now - _Current.built_at < INDEX_MAX_AGE_SECONDS
    if index is not None and fresh and now - _Current.checked_at < VERSION_CHECK_SECONDS:
        return index
    answered, version = _read_version()
    _Current.checked_at = now
    known = _Current.version
    if index is not None and fresh and not (answered and version != known):
        return index
    if not _Current.lock.acquire(blocking=index is None):
        return index  # another thread is building
    background = False
    try:
        if _Current.index is not None and _Current.index is not index:
            return _Current.index  # built by another thread while this one waited
        if index is not None and fresh and answered and known is not None and version[0] == known[0]:
            _Current.index = index.with_queries(*_queries_and_hidden())
            _Current.version = version
            return _Current.index
        if index is not None and _Current.build_seconds >= INLINE_BUILD_SECONDS:
            background = True
            try:
                _build_in_background(version, answered)  # the thread releases the lock when done
            except Exception:
                background = False
                raise
            return index
        return _build(version, answered)
    finally:
        if not background:
            _Current.lock.release()


def suggest_index_invalidate() -> None:
    """Make every process rebuild its index on its next use (after the suggestions changed)."""
    try:
        try:
            cache.incr(SUGGEST_VERSION_KEY)
        except ValueError:  # missing key; if another process creates it first, add() fails and incr() works
            if not cache.add(SUGGEST_VERSION_KEY, 1, timeout=None):
                cache.incr(SUGGEST_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the index then follows on age only
        logger.warning("cache unreachable: the suggestion index version was not bumped", exc_info=True)
    _Current.checked_at = 0.0


def suggest_index_recheck() -> None:
    """Make this process look at the versions on its next suggestion (after it bumped the vocabulary's)."""
    _Current.checked_at = 0.0


def suggest_index_clear() -> None:
    """Forget this process's index (tests; the next use builds it)."""
    with _Current.lock:
        _Current.index = None
        _Current.version = None
        _Current.built_at = _Current.checked_at = 0.0


# --- the query suggestions (writes) ----------------------------------------------------------------------------

# Per normalised query of the window's first-page text searches: how many, how many had results, the result count
# of the latest one without filters (a filter can empty a query that finds products without it) and when.
_QUERY_STATS_SQL = """
SELECT normalized_query, count(*), count(*) FILTER (WHERE result_count > 0),
       (array_agg(result_count ORDER BY created_at DESC) FILTER (WHERE filters = '{}'::jsonb))[1],
       max(created_at)
FROM search_searchlog
WHERE kind = 'text' AND page = 1 AND normalized_query <> '' AND created_at >= %s
GROUP BY normalized_query
ORDER BY 3 DESC, 1
LIMIT %s
"""


def query_suggestions_refresh(*, now=None) -> int:
    """Recount the queries of the last ``SEARCH_SUGGEST_WINDOW_DAYS`` days from the search log into
    ``QuerySuggestion`` (the ``QUERIES_KEEP`` with the most searches with results); queries no longer searched go,
    hidden ones stay hidden with zero counts. Returns how many are offered now."""
    now = now or timezone.now()
    started = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_QUERY_STATS_SQL, [now - timedelta(days=settings.SEARCH_SUGGEST_WINDOW_DAYS), QUERIES_KEEP])
        rows = cursor.fetchall()
    with transaction.atomic():
        QuerySuggestion.objects.bulk_create(
            [
                QuerySuggestion(
                    query=query,
                    searches=searches,
                    searches_with_results=with_results,
                    last_result_count=last,
                    last_searched_at=last_at,
                )
                for query, searches, with_results, last, last_at in rows
            ],  # fmt: skip
            update_conflicts=True,
            unique_fields=["query"],
            update_fields=["searches", "searches_with_results", "last_result_count", "last_searched_at", "updated_at"],
        )
        stale = QuerySuggestion.objects.filter(updated_at__lt=started)
        stale.filter(hidden=False).delete()
        stale.update(searches=0, searches_with_results=0, last_result_count=None, updated_at=started)
    transaction.on_commit(suggest_index_invalidate)
    return QuerySuggestion.objects.offered().count()


def query_suggestion_hide(*, text: str, hidden: bool = True) -> QuerySuggestion:
    """Hide ``text`` from the suggestions (whichever source offers it), or show it again; ``ValueError`` for a text
    without words."""
    query = normalize_query(text)
    if not fold(query):
        raise ValueError("a suggestion needs at least one word")
    suggestion, _ = QuerySuggestion.objects.update_or_create(query=query, defaults={"hidden": hidden})
    transaction.on_commit(suggest_index_invalidate)
    return suggestion


def query_suggestions_overview(*, limit: int = 300) -> list[QuerySuggestion]:
    """The popular queries as the admin lists them, most searched with results first, each with ``status``:
    "offered", "hidden", "too few searches" or "no results"."""
    rows = list(QuerySuggestion.objects.order_by("-searches_with_results", "-searches", "query")[:limit])
    for row in rows:
        row.status = row.status_text()
    return rows


def suggestion_payload(result: Suggestions) -> dict:
    return {
        "suggestions": [
            {"text": c.text, "kind": c.kind, "category": c.category, "typo": c.typo} for c in result.completions
        ],
        "products": result.products,
    }


__all__ = [
    "Completion",
    "SuggestIndex",
    "Suggestions",
    "current_index",
    "query_suggestion_hide",
    "query_suggestions_overview",
    "query_suggestions_refresh",
    "suggest",
    "suggest_index_clear",
    "suggest_index_invalidate",
    "suggest_index_recheck",
    "suggestion_payload",
]
