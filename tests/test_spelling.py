"""Spelling: tokenizing, the edit distance, corrections from the deletion index, and the catalog's vocabulary."""

import random
import time

import pytest

from search import spelling
from search.spelling import (
    CorrectedQuery,
    Vocabulary,
    current_vocabulary,
    damerau_levenshtein,
    tokenize,
    vocabulary_counts,
    vocabulary_invalidate,
)

from .factories import CategoryFactory, ProductFactory


def test_tokenize_drops_symbols_splits_hyphens_and_folds_case_and_accents():
    assert tokenize("HeatTec® Tank-Top") == ["heattec", "tank", "top"]
    expected = ["cafe", "creme", "men", "s", "2", "pack", "100", "cotton"]
    assert tokenize("Café Crème™ men's 2-pack, 100% COTTON!") == expected
    assert tokenize("Ñandú  ÜBER_cool") == ["nandu", "uber", "cool"]
    assert tokenize("") == []
    assert tokenize(" ®™ -- ") == []


def test_distance_counts_each_edit_and_an_adjacent_transposition_as_one():
    assert damerau_levenshtein("jacket", "jacket", 2) == 0
    assert damerau_levenshtein("hodie", "hoodie", 2) == 1  # insertion
    assert damerau_levenshtein("hoodie", "hodie", 2) == 1  # deletion
    assert damerau_levenshtein("jaket", "jacke", 2) == 2  # ins + del
    assert damerau_levenshtein("jackat", "jacket", 2) == 1  # substitution
    assert damerau_levenshtein("jakcet", "jacket", 2) == 1  # transposition
    assert damerau_levenshtein("ab", "ba", 1) == 1
    assert damerau_levenshtein("", "abc", 3) == 3
    # optimal string alignment: no substring is edited twice ("ca" -> "ac" -> "abc" would be 2)
    assert damerau_levenshtein("ca", "abc", 5) == 3


def test_distance_stops_at_max_distance_plus_one():
    assert damerau_levenshtein("kitten", "sitting", 3) == 3
    assert damerau_levenshtein("kitten", "sitting", 2) == 3
    assert damerau_levenshtein("kitten", "sitting", 1) == 2
    assert damerau_levenshtein("abcdef", "uvwxyz", 2) == 3
    assert damerau_levenshtein("short", "much longer word", 2) == 3
    assert damerau_levenshtein("abc", "abd", 0) == 1


def test_distance_matches_the_full_matrix_on_random_strings():
    # given a plain, unbanded optimal-string-alignment reference
    def reference(a: str, b: str) -> int:
        d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(len(a) + 1):
            d[i][0] = i
        for j in range(len(b) + 1):
            d[0][j] = j
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
                if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
        return d[len(a)][len(b)]

    rng = random.Random(7)
    for _ in range(2000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        limit = rng.randint(0, 4)
        # then the banded distance is exact up to the limit and limit + 1 beyond it
        assert damerau_levenshtein(a, b, limit) == min(reference(a, b), limit + 1), (a, b, limit)


COUNTS = {
    "hoodie": 40,
    "hoodies": 12,
    "jacket": 55,
    "jackets": 20,
    "packet": 3,
    "tank": 30,
    "top": 90,
    "tee": 25,
    "shirt": 70,
    "short": 60,
    "shorts": 45,
    "sweatshirt": 18,
    "waterproof": 9,
    "2024": 5,
}


def test_misspelled_words_find_their_correction():
    vocabulary = Vocabulary.from_counts(COUNTS)

    assert vocabulary.corrections("hodie")[0] == "hoodie"  # missing letter, 5 characters: 1 edit
    assert vocabulary.corrections("jaket")[0] == "jacket"
    assert vocabulary.corrections("jakcet")[0] == "jacket"  # transposition
    assert vocabulary.corrections("jcaket")[0] == "jacket"
    assert vocabulary.corrections("swetshrit") == ["sweatshirt"]  # 2 edits for 6+ characters
    assert vocabulary.corrections("wwaterproof") == ["waterproof"]  # an insertion before the indexed prefix
    assert vocabulary.corrections("Jakcet")[0] == "jacket"  # folded like the indexed words


def test_corrections_rank_by_distance_then_frequency_then_alphabetically():
    vocabulary = Vocabulary.from_counts(COUNTS)

    # "jacket" (1 edit), then "jackets" and "packet" (2 edits each; 20 occurrences against 3)
    assert vocabulary.corrections("jacket") == ["jacket"]
    assert vocabulary.corrections("jackrt") == ["jacket", "jackets", "packet"]
    assert vocabulary.corrections("jackrt", limit=1) == ["jacket"]
    # equal distance: the more frequent word first ("shirt" 70 > "short" 60), then alphabetical on equal counts
    assert vocabulary.corrections("shért") == ["shirt", "short"]
    assert vocabulary.corrections("shxrt") == ["shirt", "short"]
    tied = Vocabulary.from_counts({"boot": 5, "bolt": 5, "boat": 5})
    assert tied.corrections("boxt") == ["boat", "bolt", "boot"]


def test_short_words_numbers_and_known_words_are_not_corrected():
    vocabulary = Vocabulary.from_counts(COUNTS)

    assert vocabulary.corrections("tep") == []  # 3 characters: exact only, though "tee" and "top" are 1 edit away
    assert vocabulary.corrections("tnak") == ["tank"]  # 4 characters: 1 edit
    assert vocabulary.corrections("tnk") == []
    assert vocabulary.corrections("2025") == []  # digits only, though "2024" is 1 edit away
    assert vocabulary.corrections("2024") == ["2024"]
    assert vocabulary.corrections("shorts") == ["shorts"]  # known, though "short" is 1 edit away
    assert vocabulary.corrections("xqzvbn") == []
    assert "hoodie" in vocabulary and "hodie" not in vocabulary


def test_correct_query_keeps_known_and_uncorrectable_tokens():
    vocabulary = Vocabulary.from_counts(COUNTS)

    result = vocabulary.correct_query("Black HODIE, jakcet & tank-top 2025")

    assert isinstance(result, CorrectedQuery)
    assert result.tokens == ["black", "hodie", "jakcet", "tank", "top", "2025"]
    # 6 characters allow 2 edits: "jackets" (transposition + insertion) and "packet" are alternatives too
    assert result.alternatives == [["black"], ["hoodie"], ["jacket", "jackets", "packet"], ["tank"], ["top"], ["2025"]]
    assert result.corrected == "black hoodie jacket tank top 2025"
    assert result.changed
    unchanged = vocabulary.correct_query("jacket tep")
    assert (unchanged.corrected, unchanged.changed) == ("jacket tep", False)
    assert vocabulary.correct_query("").corrected == ""


def test_index_finds_every_word_a_full_scan_finds():
    # given a vocabulary of random words over a small alphabet (many near neighbours) and random misspellings
    rng = random.Random(3)
    words = {"".join(rng.choice("abcde") for _ in range(rng.randint(2, 11))) for _ in range(3000)}
    counts = {word: rng.randint(1, 5) for word in words}
    vocabulary = Vocabulary.from_counts(counts)

    for _ in range(400):
        word = list(rng.choice(sorted(words)))
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(word))
            operation = rng.choice("isdt")
            if operation == "i":
                word.insert(i, rng.choice("abcdef"))
            elif operation == "s":
                word[i] = rng.choice("abcdef")
            elif operation == "d" and len(word) > 1:
                del word[i]
            elif i + 1 < len(word):
                word[i], word[i + 1] = word[i + 1], word[i]
        query = "".join(word)
        if query in vocabulary:
            continue
        allowed = 0 if len(query) <= 3 else 1 if len(query) <= 5 else 2
        scan = sorted(
            (damerau_levenshtein(query, known, allowed), -count, known)
            for known, count in counts.items()
            if allowed and damerau_levenshtein(query, known, allowed) <= allowed
        )
        # then the index returns exactly the best words of a full scan
        assert vocabulary.corrections(query, limit=5) == [known for _, _, known in scan[:5]], query


@pytest.mark.django_db
def test_vocabulary_counts_reads_names_brands_attributes_and_category_paths():
    # given products whose words appear in one place each
    outerwear = CategoryFactory(path="Women/Outerwear Jackets")
    ProductFactory(
        name="Zephyrine Hoodie",
        brand="Montagnard",
        description="Brushed fleece",
        attributes={"color": ["Aubergine", "Off-White"], "material": "Merino", "eco": "Yes", "size": 42},
    ).categories.add(outerwear)
    ProductFactory(name="Zephyrine Tank™", description="", attributes={})

    # when the vocabulary is counted
    counts = vocabulary_counts()

    # then every source is there, tokenized, counted across products
    assert counts["zephyrine"] == 2
    assert counts["hoodie"] == 1 and counts["tank"] == 1
    assert counts["montagnard"] == 1
    assert counts["brushed"] == 1 and counts["fleece"] == 1
    assert counts["aubergine"] == 1 and counts["off"] == 1 and counts["white"] == 1  # list values
    assert counts["merino"] == 1 and counts["42"] == 1
    assert counts["women"] >= 1 and counts["outerwear"] >= 1 and counts["jackets"] >= 1  # category path
    # and flag values and one-letter words are not words
    assert "yes" not in counts
    assert all(len(word) >= 2 for word in counts)


@pytest.mark.django_db
def test_vocabulary_counts_are_those_of_tokenizing_every_text_whatever_separates_its_words():
    # given texts whose words are separated by other whitespace than a space, by several spaces, by punctuation, and
    # joined by symbols (which tokenizing drops)
    descriptions = [
        "Café\u00a0crème  brûlée ",
        " tab\tseparated\nlines, ÉCRU écru Ecru",
        "a+b c#d Zürich–Genève HeatTec®Shell",
    ]
    for number, description in enumerate(descriptions):
        ProductFactory(name=f"Quillon {number}", description=description, brand="", attributes={})

    # when the vocabulary is counted
    counts = vocabulary_counts()

    # then the counts are those of tokenizing each text whole
    expected = {}
    for text in [*descriptions, *(f"Quillon {n}" for n in range(3))]:
        for word in tokenize(text):
            if len(word) >= 2:
                expected[word] = expected.get(word, 0) + 1
    assert {word: counts.get(word) for word in expected} == expected
    assert counts["creme"] == counts["brulee"] == counts["separated"] == counts["lines"] == 1
    assert counts["ecru"] == 3 and counts["quillon"] == 3
    assert counts["ab"] == 1 and counts["zurich"] == counts["geneve"] == counts["heattecshell"] == 1
    assert "c" not in counts and "" not in counts


@pytest.mark.django_db
def test_current_vocabulary_is_cached_until_invalidated():
    # given the process's vocabulary, then a product with a new word
    current_vocabulary()
    ProductFactory(name="Quokkaline Parka", description="", attributes={})

    # then the cached vocabulary does not know it yet
    assert "quokkaline" not in current_vocabulary()

    # when the catalog's vocabulary is invalidated
    vocabulary_invalidate()

    # then the next use rebuilds it, and typos of the new word are corrected
    vocabulary = current_vocabulary()
    assert "quokkaline" in vocabulary
    assert vocabulary.corrections("quokaline") == ["quokkaline"]
    assert current_vocabulary() is vocabulary


@pytest.mark.django_db
def test_another_process_invalidation_is_seen_after_the_version_check_interval(monkeypatch):
    # given a vocabulary whose version was just checked, then a new word and another process's invalidation
    monkeypatch.setattr(spelling, "VOCABULARY_VERSION_CHECK_SECONDS", 60)
    current_vocabulary()
    ProductFactory(name="Wombatine Parka", description="", attributes={})
    vocabulary_invalidate()
    monkeypatch.setattr(spelling._Cached, "checked_at", time.monotonic())  # as if it happened in another process

    # then searches inside the interval do not read the version
    assert "wombatine" not in current_vocabulary()
    # and the first one after it does, and rebuilds
    monkeypatch.setattr(spelling, "VOCABULARY_VERSION_CHECK_SECONDS", 0)
    assert "wombatine" in current_vocabulary()


@pytest.fixture
def counted(monkeypatch):
    """The calls of ``vocabulary_counts`` (each reads every product's text), counted."""
    calls = []
    real_counts = spelling.vocabulary_counts

    def counts():
        calls.append(1)
        return real_counts()

    monkeypatch.setattr(spelling, "vocabulary_counts", counts)
    return calls


def as_another_process(monkeypatch, vocabulary=None):
    """This process's cached vocabulary state replaced by that of another process (none, or ``vocabulary``, built at
    an older version)."""
    for name, value in (("vocabulary", vocabulary), ("version", -1), ("fingerprint", None), ("built_at", 0.0),
                        ("checked_at", 0.0)):  # fmt: skip
        monkeypatch.setattr(spelling._Cached, name, value)


@pytest.mark.django_db
def test_an_old_vocabulary_is_counted_again_only_when_the_catalog_changed(monkeypatch, counted):
    # given a vocabulary past its maximum age, with the version in the cache unchanged
    vocabulary = current_vocabulary()
    monkeypatch.setattr(spelling, "VOCABULARY_MAX_AGE_SECONDS", 0)
    counted.clear()

    # then while the catalog is as it was counted, it is kept without reading the catalog's texts
    assert current_vocabulary() is vocabulary
    assert current_vocabulary() is vocabulary and counted == []

    # and a product written without a version bump (one lost while the cache was down) is counted on the next use
    ProductFactory(name="Platypunic Parka", description="", attributes={})
    rebuilt = current_vocabulary()
    assert rebuilt is not vocabulary and "platypunic" in rebuilt and counted == [1]
    assert current_vocabulary() is rebuilt and counted == [1]


@pytest.mark.django_db
def test_the_words_are_counted_by_one_process_and_the_others_take_its_counts(monkeypatch, counted):
    # given a catalog change, and one process that built its vocabulary after it
    ProductFactory(name="Numbatine Parka", description="", attributes={})
    vocabulary_invalidate()
    first = current_vocabulary()
    assert "numbatine" in first and counted == [1]

    # when another process, without a vocabulary yet, needs one
    as_another_process(monkeypatch)
    second = current_vocabulary()

    # then it builds it from the shared counts, without reading the catalog's texts
    assert second is not first and "numbatine" in second and counted == [1]


@pytest.mark.django_db
def test_while_another_process_counts_a_process_keeps_its_vocabulary_and_takes_the_counts_once_shared(
    monkeypatch, counted
):
    # given a process with a vocabulary, a catalog change, and another process counting the words
    old = current_vocabulary()
    ProductFactory(name="Bilbyline Parka", description="", attributes={})
    vocabulary_invalidate()
    assert spelling.cache.add(spelling.VOCABULARY_COUNTING_KEY, 1, timeout=60)
    calls = len(counted)

    # then the process keeps serving its vocabulary, without counting
    assert current_vocabulary() is old and len(counted) == calls

    # when the other process has shared its counts
    spelling.cache.delete(spelling.VOCABULARY_COUNTING_KEY)
    as_another_process(monkeypatch)
    counter = current_vocabulary()
    assert "bilbyline" in counter and len(counted) == calls + 1
    as_another_process(monkeypatch, vocabulary=old)

    # then the process's next check takes them, without counting
    rebuilt = current_vocabulary()
    assert rebuilt is not old and "bilbyline" in rebuilt and len(counted) == calls + 1


class BrokenCache:
    def get(self, key, default=None):
        raise ConnectionError("redis is down")

    def incr(self, key, delta=1):
        raise ConnectionError("redis is down")


def test_cache_outage_keeps_the_vocabulary_until_it_is_too_old(monkeypatch, caplog):
    # given a process without a vocabulary yet, a cache that fails and a catalog that changes between builds
    monkeypatch.setattr(spelling._Cached, "vocabulary", None)
    monkeypatch.setattr(spelling._Cached, "cache_down", False)
    monkeypatch.setattr(spelling, "cache", BrokenCache())
    catalogs = iter([{"hoodie": 1}, {"jacket": 1}])
    monkeypatch.setattr(spelling, "vocabulary_counts", lambda: next(catalogs))

    # when it is used twice, and the version is bumped in vain
    first = current_vocabulary()
    vocabulary_invalidate()
    second = current_vocabulary()

    # then it was built once and kept, with one warning about the cache
    assert second is first and "hoodie" in first
    assert len([r for r in caplog.records if r.levelname == "WARNING" and "rebuilt on age" in r.message]) == 1
    # and once it is older than the maximum age it is rebuilt all the same
    monkeypatch.setattr(spelling, "VOCABULARY_MAX_AGE_SECONDS", 0)
    assert "jacket" in current_vocabulary()
