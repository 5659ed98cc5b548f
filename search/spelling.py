"""Typo tolerance without pg_trgm: the catalog's vocabulary, an edit-distance index over it, query correction.

``tokenize`` turns text into folded words; ``Vocabulary`` answers "which known words are within a small edit distance
of this word" from an in-memory deletion index; ``current_vocabulary`` keeps one per process, rebuilt from the
database when ``vocabulary_invalidate`` bumps the version in the cache (seen at once by the process that bumped
it, within ``VOCABULARY_VERSION_CHECK_SECONDS`` by the others), or when it is older than
``VOCABULARY_MAX_AGE_SECONDS`` and the catalog it was counted from changed since (``_catalog_fingerprint``: a bump
lost while the cache was down). One process counts the catalog's words after a change and shares the counts
through the cache; the others build their index from them (``_shared_counts``).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

# Allowed edit distance by the length of the query word: a typo in a 3-letter word ("tee" -> "toe") is more often
# another word than a slip, and 2 edits on a 4-5 letter word reach too many unrelated words ("hat" -> "coat").
SHORT_WORD_MAX_LENGTH = 3  # 1-3 characters: exact only
MEDIUM_WORD_MAX_LENGTH = 5  # 4-5 characters: 1 edit; 6 and more: 2 edits
MAX_EDIT_DISTANCE = 2

# Deletion index (SymSpell, "symmetric delete"): two words are within k edits only if some string is reachable from
# both by at most k deletions (a substitution or an adjacent transposition is one deletion on each side, an insertion
# one deletion on the other side). Each known word is stored under every deletion variant of its first
# INDEX_PREFIX_LENGTH characters, up to 2 deletions; a query word looks up the deletion variants of its own prefix,
# and the few words found are checked with the real distance. Restricting both sides to a prefix loses no match (the
# edits inside the prefix plus the characters pushed across its end stay within k deletions on each side), it only
# bounds the variants per word: at most 1 + 7 + 21 = 29. Words of 2 characters are never a correction target
# (queries of up to 3 characters are exact, a 4-character query reaches 3-5 characters); 3-character words need
# 1 deletion only.
# Why not q-grams: at 2 edits a 6-letter word may share a single bigram (and no trigram) with its correction, so a
# q-gram count filter lets thousands of candidates through to the distance check; the deletion index is exact and
# hands over only a few.
#
# Memory: variants are not stored as strings (a dict of ~1.2 M strings would take ~150 MB) but as one sorted array
# of 64-bit integers, each the variant's hash (42 bits) packed above the word's id (21 bits): 8 bytes per
# (variant, word) pair. Measured on 50,000 English words and derived forms (8.6 characters on average): 1.22 M
# pairs, 9.8 MB; 14 MB with the words, their frequencies and the word -> id dict; built in ~1.1 s (peak ~25 MB).
# The hashes are Python's (salted per process): the index lives and dies in one process, never shared. A hash
# collision only adds a candidate, which the distance check drops. Lookup of an unknown word: up to 29
# variants, two bisections each, the distance on the few candidates: ~0.3 ms median, ~1 ms p99 at 50,000 words.
INDEX_PREFIX_LENGTH = 7
_ID_BITS = 21
_MAX_WORDS = 1 << _ID_BITS
_ID_MASK = _MAX_WORDS - 1
_HASH_MASK = (1 << (63 - _ID_BITS)) - 1
_BUCKET_BITS = 8
_BUCKET_SHIFT = 63 - _BUCKET_BITS

VOCABULARY_VERSION_KEY = "search:vocabulary-version"
# After this long a process checks that its vocabulary still matches the catalog (``_catalog_fingerprint``, one
# small query) and counts it again only if not: counting reads every product's text (8 s at 250,000 products,
# bench/vocabulary_counts.py), which each web process used to spend every 5 minutes on a request of its own.
VOCABULARY_MAX_AGE_SECONDS = 300
# The latest counts, shared through the cache with the version and catalog fingerprint they were counted at: one
# process counts (holding VOCABULARY_COUNTING_KEY), the others take its counts, keeping their previous vocabulary
# meanwhile, instead of every web process reading every product's text after each catalog change.
VOCABULARY_COUNTS_KEY = "search:vocabulary-counts"
VOCABULARY_COUNTED_KEY = "search:vocabulary-counted"  # (version, fingerprint) of the counts, read first: a few bytes
VOCABULARY_COUNTING_KEY = "search:vocabulary-counting"
# How long a process counting holds the others off: a process killed while counting stops no one for longer.
VOCABULARY_COUNTING_SECONDS = 300
# The version is read at most this often per process (a cache round trip per search is a tenth of a millisecond
# that every query would wait for before anything else).
VOCABULARY_VERSION_CHECK_SECONDS = 1.0
MIN_WORD_LENGTH = 2

_WORD = re.compile(r"[^\W_]+")


def _fold(text: str) -> str:
    """Lowercase, symbols (``®``, ``™``, ``©``, currency signs) removed, accents folded: ``Café™`` -> ``cafe``."""
    # Symbols go before NFKD, which would otherwise turn "™" into "TM".
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("S"))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokenize(text: str) -> list[str]:
    """Folded words of ``text``: runs of letters and digits; hyphens, apostrophes and all else separate them."""
    if not text:
        return []
    return _WORD.findall(_fold(text))


def allowed_distance(word: str) -> int:
    if len(word) <= SHORT_WORD_MAX_LENGTH:
        return 0
    if len(word) <= MEDIUM_WORD_MAX_LENGTH:
        return 1
    return MAX_EDIT_DISTANCE


def is_common_word(word: str) -> bool:
    """A common word of the shop's language (``SEARCH_SPELLING_LANGUAGE``, word frequencies of the ``wordfreq``
    package) is what the shopper meant, not a typo: "candle" in a shop that sells none is not "handle", "kettle" not
    "bottle". At Zipf frequency ``SEARCH_SPELLING_COMMON_ZIPF`` (3: once per million words) and above."""
    language = settings.SEARCH_SPELLING_LANGUAGE
    return bool(language) and _zipf(word, language) >= settings.SEARCH_SPELLING_COMMON_ZIPF


@functools.lru_cache(maxsize=65536)
def _zipf(word: str, language: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language)


def damerau_levenshtein(a: str, b: str, max_distance: int) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions and adjacent transpositions, each
    counting 1, no substring edited twice), or ``max_distance + 1`` as soon as it is known to exceed
    ``max_distance``. Only the diagonal band of width ``max_distance`` is computed."""
    if a == b:
        return 0
    too_far = max_distance + 1
    if max_distance < 0 or abs(len(a) - len(b)) > max_distance:
        return too_far
    # A common prefix and suffix cost nothing.
    start = 0
    end_a, end_b = len(a), len(b)
    while start < end_a and start < end_b and a[start] == b[start]:
        start += 1
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    len_a, len_b = len(a), len(b)
    if not len_a or not len_b:
        return max(len_a, len_b)  # within max_distance: the length difference was checked

    # previous[j] and current[j]: distance between a[:i-1] / a[:i] and b[:j]; cells outside the band stay too_far.
    before_previous: list[int] = []
    previous = [j if j <= max_distance else too_far for j in range(len_b + 1)]
    for i in range(1, len_a + 1):
        current = [too_far] * (len_b + 1)
        low = max(1, i - max_distance)
        high = min(len_b, i + max_distance)
        if low == 1:
            current[0] = i if i <= max_distance else too_far
        row_min = current[0] if low == 1 else too_far
        char_a = a[i - 1]
        for j in range(low, high + 1):
            char_b = b[j - 1]
            value = previous[j - 1] + (char_a != char_b)
            if previous[j] + 1 < value:
                value = previous[j] + 1
            if current[j - 1] + 1 < value:
                value = current[j - 1] + 1
            if (
                i > 1
                and j > 1
                and char_a == b[j - 2]
                and a[i - 2] == char_b
                and char_a != char_b
                and before_previous[j - 2] + 1 < value
            ):
                value = before_previous[j - 2] + 1
            current[j] = value
            if value < row_min:
                row_min = value
        if row_min > max_distance:
            return too_far
        before_previous, previous = previous, current
    return min(previous[len_b], too_far)


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string obtained from it by deleting up to ``depth`` characters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))} - found
        found |= frontier
    return found


def _index_depth(length: int) -> int:
    """How many deletions of a known word of this length can be needed by a query within its allowed distance."""
    if length <= SHORT_WORD_MAX_LENGTH - 1:
        return -1  # never a correction target
    if length == SHORT_WORD_MAX_LENGTH:
        return 1
    return MAX_EDIT_DISTANCE


@dataclass(frozen=True)
class CorrectedQuery:
    tokens: list[str]
    alternatives: list[list[str]]

    @property
    def corrected(self) -> str:
        return " ".join(options[0] for options in self.alternatives)

    @property
    def changed(self) -> bool:
        return any(options[0] != token for token, options in zip(self.tokens, self.alternatives, strict=True))


class Vocabulary:
    """Known words with their frequencies, and a deletion index to find the known words near an unknown one."""

    # (version, catalog fingerprint) it was counted at (``current_vocabulary``); None where no cache said the version
    identity: tuple | None = None

    def __init__(self, words: list[str], frequencies: list[int]):
        if len(words) > _MAX_WORDS:
            raise ValueError(f"a vocabulary holds at most {_MAX_WORDS} words, not {len(words)}")
        self._words = words
        self._frequencies = array("q", frequencies)
        self._ids = {word: i for i, word in enumerate(words)}
        # Built in 256 buckets by the top bits of the hash, each sorted on its own: the transient Python ints stay
        # at one bucket's worth (peak ~25 MB for 50,000 words instead of ~77 MB for one sorted() of everything).
        buckets = [array("q") for _ in range(1 << _BUCKET_BITS)]
        for word_id, word in enumerate(words):
            depth = _index_depth(len(word))
            if depth < 0:
                continue
            for variant in _deletions(word[:INDEX_PREFIX_LENGTH], depth):
                packed = (hash(variant) & _HASH_MASK) << _ID_BITS | word_id
                buckets[packed >> _BUCKET_SHIFT].append(packed)
        self._index = array("q")
        for bucket in buckets:
            self._index.extend(sorted(bucket))

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> Vocabulary:
        words = sorted(counts)
        return cls(words, [counts[w] for w in words])

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._ids

    def frequency(self, word: str) -> int:
        word_id = self._ids.get(word)
        return 0 if word_id is None else self._frequencies[word_id]

    @property
    def index_size(self) -> int:
        """Number of (deletion variant, word) pairs in the index."""
        return len(self._index)

    def _candidates(self, word: str, distance: int) -> set[int]:
        index = self._index
        found: set[int] = set()
        for variant in _deletions(word[:INDEX_PREFIX_LENGTH], distance):
            key = (hash(variant) & _HASH_MASK) << _ID_BITS
            start = bisect_left(index, key)
            stop = bisect_left(index, key + _MAX_WORDS, start)
            found.update(packed & _ID_MASK for packed in index[start:stop])
        return found

    def corrections(self, word: str, limit: int = 3) -> list[str]:
        """``[word]`` for a known word; else up to ``limit`` known words within the allowed distance (see
        ``allowed_distance``), nearest first, then the most frequent, then alphabetically. Numbers are never
        corrected."""
        if word in self._ids:
            return [word]
        word = _fold(word)
        if word in self._ids:
            return [word]
        distance = allowed_distance(word)
        if limit <= 0 or distance == 0 or word.isdigit() or is_common_word(word):
            return []
        ranked = []
        length = len(word)
        for word_id in self._candidates(word, distance):
            known = self._words[word_id]
            if abs(len(known) - length) > distance:
                continue
            found = damerau_levenshtein(word, known, distance)
            if found <= distance:
                ranked.append((found, -self._frequencies[word_id], known))
        ranked.sort()
        return [known for _, _, known in ranked[:limit]]

    def correct_query(self, text: str, limit: int = 3) -> CorrectedQuery:
        tokens = tokenize(text)
        alternatives = [self.corrections(token, limit) or [token] for token in tokens]
        return CorrectedQuery(tokens=tokens, alternatives=alternatives)


# Attribute values that are flags, not words (as in search.documents).
_VOCABULARY_SQL = """
SELECT p.name FROM catalog_product p
UNION ALL SELECT p.brand FROM catalog_product p WHERE p.brand <> ''
UNION ALL SELECT p.description FROM catalog_product p WHERE p.description <> ''
UNION ALL SELECT a.value FROM catalog_product p,
    jsonb_each_text(CASE WHEN jsonb_typeof(p.attributes) = 'object' THEN p.attributes ELSE '{}'::jsonb END) a
    WHERE lower(a.value) NOT IN ('yes', 'no', 'true', 'false')
UNION ALL SELECT replace(c.path, '/', ' ') FROM catalog_category c
UNION ALL SELECT array_to_string(s.terms, ' ') || ' ' || s.root FROM search_synonymset s WHERE s.enabled
"""


# The texts are split at spaces and the pieces counted by the database; only the distinct pieces are tokenized here
# (tokenizing works character by character and a space always separates words, so the counts are those of
# tokenizing every text). At 250,000 synthetic products: 8.0 s against 38.5 s (bench/vocabulary_counts.py).
_PIECES_SQL = f"""
SELECT piece, count(*) FROM ({_VOCABULARY_SQL}) texts(text), unnest(string_to_array(texts.text, ' ')) piece
WHERE piece <> '' GROUP BY piece
"""


def vocabulary_counts() -> dict[str, int]:
    """Word -> occurrences over product names, brands, descriptions, attribute values (a list value's text is its
    JSON, whose brackets and quotes tokenize away) and category paths: one query.

    The query counts the space-separated pieces of the texts, and each distinct piece is tokenized once here:
    ``bench/vocabulary_counts.py`` times this against tokenizing every text."""
    counts: Counter[str] = Counter()
    with connection.cursor() as cursor:
        cursor.execute(_PIECES_SQL)
        for piece, occurrences in cursor.fetchall():
            for word in tokenize(piece):
                if len(word) >= MIN_WORD_LENGTH:
                    counts[word] += occurrences
    return dict(counts)


_FINGERPRINT_SQL = """
SELECT (SELECT count(*) FROM catalog_product), (SELECT max(updated_at) FROM catalog_product),
    (SELECT count(*) FROM catalog_category), (SELECT count(*) FROM search_synonymset),
    (SELECT max(updated_at) FROM search_synonymset)
"""


def _catalog_fingerprint() -> tuple:
    """What the vocabulary's texts were when it was counted, in a few milliseconds: how many products, categories and
    synonym sets there are and when a product or synonym set last changed (every write stamps ``updated_at``)."""
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL)
        return tuple(cursor.fetchone())


class _Cached:
    lock = threading.Lock()
    vocabulary: Vocabulary | None = None
    version: object = None
    fingerprint: tuple | None = None  # the catalog's when the vocabulary was counted (None: the cache was down)
    built_at = 0.0
    checked_at = 0.0
    cache_down = False


def _read_version() -> tuple[bool, object]:
    """(whether the cache answered, the version)."""
    try:
        version = cache.get(VOCABULARY_VERSION_KEY)
    except Exception:  # noqa: BLE001 - any cache failure means "version unknown", never a failed search
        if not _Cached.cache_down:
            _Cached.cache_down = True
            logger.warning("cache unreachable: the spelling vocabulary is rebuilt on age only", exc_info=True)
        return False, None
    if _Cached.cache_down:
        _Cached.cache_down = False
        logger.info("cache reachable again: the spelling vocabulary follows its version")
    return True, version


def _stale(answered: bool, version: object) -> bool:
    if _Cached.vocabulary is None or time.monotonic() - _Cached.built_at >= VOCABULARY_MAX_AGE_SECONDS:
        return True
    return answered and version != _Cached.version


def _only_old(answered: bool, version: object) -> bool:
    """Stale by age alone: the cache answers, with the version this process's vocabulary was built at."""
    built = _Cached.vocabulary is not None and _Cached.fingerprint is not None
    return built and answered and version == _Cached.version


def current_vocabulary() -> Vocabulary:
    """This process's vocabulary, rebuilt when its version in the cache changed, or after
    ``VOCABULARY_MAX_AGE_SECONDS`` when the catalog changed since (always, while the cache is down). While one
    thread rebuilds, or another process counts the words, the others keep using the previous one."""
    vocabulary = _Cached.vocabulary
    now = time.monotonic()
    recently_checked = now - _Cached.checked_at < VOCABULARY_VERSION_CHECK_SECONDS
    if vocabulary is not None and recently_checked and now - _Cached.built_at < VOCABULARY_MAX_AGE_SECONDS:
        return vocabulary
    answered, version = _read_version()
    _Cached.checked_at = now
    if not _stale(answered, version):
        return vocabulary
    if _only_old(answered, version) and _catalog_fingerprint() == _Cached.fingerprint:
        _Cached.built_at = now  # old, but counted from the catalog as it is: kept (and the statistics made with it)
        return vocabulary
    # Wait for the builder only when there is nothing to serve yet.
    if not _Cached.lock.acquire(blocking=vocabulary is None):
        return vocabulary
    try:
        if _stale(answered, version):
            built_at = time.monotonic()
            # Before counting: a change made while it counts shows in the next check.
            fingerprint = _catalog_fingerprint() if answered else None
            if answered:
                counts = _shared_counts(version, fingerprint, may_wait=vocabulary is not None)
                if counts is None:
                    return vocabulary  # another process is counting: its counts are taken on a later check
            else:
                counts = vocabulary_counts()
            _Cached.vocabulary = Vocabulary.from_counts(counts)
            # What it was counted from, the same in every process that took these counts (None: not shared)
            _Cached.vocabulary.identity = (version, fingerprint) if answered else None
            _Cached.fingerprint = fingerprint
            _Cached.built_at = built_at
            _Cached.version = version if answered else _Cached.version
            logger.info("spelling vocabulary built: %d words", len(_Cached.vocabulary))
        return _Cached.vocabulary
    finally:
        _Cached.lock.release()


def _shared_counts(version: object, fingerprint: tuple, *, may_wait: bool) -> dict[str, int] | None:
    """The vocabulary counts of ``version`` and ``fingerprint``: those another process shared through the cache, or
    counted here and shared. None when another process is counting them and the caller ``may_wait`` (it has a
    vocabulary to serve meanwhile)."""
    try:
        if cache.get(VOCABULARY_COUNTED_KEY) == (version, fingerprint):
            shared = cache.get(VOCABULARY_COUNTS_KEY)
            if shared is not None and shared[:2] == (version, fingerprint):
                return shared[2]
        counting = cache.add(VOCABULARY_COUNTING_KEY, 1, timeout=VOCABULARY_COUNTING_SECONDS)
    except Exception:  # noqa: BLE001 - the cache failing must not fail a search: this process counts alone
        logger.warning("cache unreachable: the spelling vocabulary is counted without sharing", exc_info=True)
        return vocabulary_counts()
    if not counting and may_wait:
        return None
    try:
        counts = vocabulary_counts()
        try:
            cache.set(VOCABULARY_COUNTS_KEY, (version, fingerprint, counts), timeout=None)
            cache.set(VOCABULARY_COUNTED_KEY, (version, fingerprint), timeout=None)
        except Exception:  # noqa: BLE001 - the others count for themselves
            logger.warning("cache unreachable: the spelling vocabulary counts were not shared", exc_info=True)
    finally:
        if counting:
            try:
                cache.delete(VOCABULARY_COUNTING_KEY)
            except Exception:  # noqa: BLE001 - the key expires
                logger.warning("cache unreachable: the vocabulary counting key is left to expire")
    return counts


def vocabulary_invalidate() -> None:
    """Make every process rebuild its vocabulary on its next use (after a catalog change)."""
    try:
        try:
            cache.incr(VOCABULARY_VERSION_KEY)
        except ValueError:  # missing key; if another process creates it first, add() fails and incr() works
            if not cache.add(VOCABULARY_VERSION_KEY, 1, timeout=None):
                cache.incr(VOCABULARY_VERSION_KEY)
    except Exception:  # noqa: BLE001 - the catalog change must not fail because the cache is down
        logger.warning("cache unreachable: the spelling vocabulary version was not bumped", exc_info=True)
    _Cached.checked_at = 0.0  # after the bump: this process reads the new version on its next use
