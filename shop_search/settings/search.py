"""Search settings: ranking (which signals, how they fuse), limits, caching and throttling."""

from .env import env

# How the ranked lists of the signals become one: "rrf" (reciprocal rank fusion) or "weighted" (a weighted sum
# of scores calibrated per signal to 0..1). The default is the one that measures best on luma-dev
# (bench/search_quality.py); every weight can be overridden per deployment.
SEARCH_FUSION = env.str("SEARCH_FUSION", default="weighted")
SEARCH_RRF_K = env.int("SEARCH_RRF_K", default=60)
SEARCH_SIGNAL_WEIGHTS = {
    "fulltext": env.float("SEARCH_WEIGHT_FULLTEXT", default=1.0),
    "text_vector": env.float("SEARCH_WEIGHT_TEXT_VECTOR", default=1.0),
    "cross_modal": env.float("SEARCH_WEIGHT_CROSS_MODAL", default=0.5),
    "fused": env.float("SEARCH_WEIGHT_FUSED", default=1.0),
    "image": env.float("SEARCH_WEIGHT_IMAGE", default=1.0),
}
# PostgreSQL text search configuration of the search documents and queries (a language's stemmer and stop words):
# english, german, french, spanish, ..., simple (no stemming); `SELECT cfgname FROM pg_ts_config` lists them. After
# changing it, rebuild the documents: `manage.py search_documents` (search/documents.py).
SEARCH_TEXT_CONFIG = env.str("SEARCH_TEXT_CONFIG", default="english")
# The word-frequency language (wordfreq's code) of each text search configuration.
TEXT_CONFIG_LANGUAGES = {"arabic": "ar", "catalan": "ca", "danish": "da", "dutch": "nl", "english": "en",
                         "finnish": "fi", "french": "fr", "german": "de", "greek": "el", "hungarian": "hu",
                         "indonesian": "id", "italian": "it", "lithuanian": "lt", "norwegian": "nb",
                         "portuguese": "pt", "romanian": "ro", "russian": "ru", "spanish": "es",
                         "swedish": "sv", "turkish": "tr"}  # fmt: skip
# Typo correction leaves alone a word that is common in this language (wordfreq's Zipf frequency at or above
# SEARCH_SPELLING_COMMON_ZIPF): "candle" is not a misspelt "handle". Empty: every unknown word may be corrected.
# By default the language of SEARCH_TEXT_CONFIG (none for "simple").
SEARCH_SPELLING_LANGUAGE = env.str(
    "SEARCH_SPELLING_LANGUAGE", default=TEXT_CONFIG_LANGUAGES.get(SEARCH_TEXT_CONFIG.rpartition(".")[2], "")
)
SEARCH_SPELLING_COMMON_ZIPF = env.float("SEARCH_SPELLING_COMMON_ZIPF", default=3.0)
# Nearest products each vector signal reads per query (only those above the signal's relevance threshold join the
# match set: search/match_set.py).
SEARCH_VECTOR_CANDIDATES = env.int("SEARCH_VECTOR_CANDIDATES", default=30)
# Photo search of a generation with one pooled photo vector per product (EMBEDDING_PHOTO_INDEX=product): products
# read from the pooled index, whose photos are then scored exactly. More keeps the best photos of a dense catalog
# (many near-identical products) in reach, for about 7-10 ms per 100 products (statement p50, 2 loaded cores). At
# 50,000 products, recall@10 of the exact best photos for 100 / 300 / 1000: catalog photos 0.93 / 0.98 / 0.995,
# luma-dev's withheld views 0.82 / 0.95 / 0.99 (bench/vector_storage.py; README "Running at scale").
SEARCH_PHOTO_RESCORE_PRODUCTS = env.int("SEARCH_PHOTO_RESCORE_PRODUCTS", default=300)
# Photo search of a generation with binary photo codes (EMBEDDING_PHOTO_INDEX=binary, and "auto" above
# EMBEDDING_PHOTO_INDEX_AUTO_MAX_PHOTOS photos): photos read from the index of codes by Hamming distance, then scored
# exactly. Recall@10 of the exact best photos (catalog photos / luma-dev's withheld views) for 300 / 1000: 0.989 /
# 0.985 and 1.000 / 1.000 at 50,000 products, 0.880 / 0.826 and 0.983 / 0.985 at 250,000; statement p50 about
# 20-27 ms for 300, 63-75 ms for 1000 (bench/vector_storage.py; embeddings/indexes.py). The number needed grows
# with how crowded the catalog is; the default is what 250,000 synthetic products need.
SEARCH_PHOTO_RESCORE_PHOTOS = env.int("SEARCH_PHOTO_RESCORE_PHOTOS", default=1000)
# Keyword members ranked beyond the requested page (the rest of the match set is counted, not ranked).
SEARCH_FULLTEXT_CANDIDATES = env.int("SEARCH_FULLTEXT_CANDIDATES", default=200)
# A product matches by keywords when the query words it contains carry at least this share of the query's
# inverse document frequency (1.0: every word; lower lets a long query lose its commonest words).
SEARCH_KEYWORD_MIN_COVERAGE = env.float("SEARCH_KEYWORD_MIN_COVERAGE", default=1.0)
# ... or when it contains the query's head word, the kind of product named ("pants" in "brown pants"; keywords.py).
SEARCH_KEYWORD_HEAD_MATCH = env.bool("SEARCH_KEYWORD_HEAD_MATCH", default=True)


def relevance_thresholds_parse(text: str) -> dict[str, float]:
    """ "text:text_vector=0.45,photo:image=0.7" -> {"text:text_vector": 0.45, "photo:image": 0.7}."""
    result = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        kind, _, signal = key.strip().partition(":")
        try:
            if kind not in ("text", "photo", "similar") or not signal:
                raise ValueError
            result[f"{kind}:{signal}"] = float(value)
        except ValueError:
            raise ValueError(
                f"SEARCH_RELEVANCE_THRESHOLDS: {item!r} is not <text|photo|similar>:<signal>=<number>"
            ) from None
    return result


# Relevance thresholds of the vector signals, overriding the ones calibrated on the catalog when a generation is
# built (and those `evaluate --tune --store` stored): "<kind>:<signal>=<cosine>,...", e.g.
# "text:text_vector=0.5,photo:image=0.75". Kinds: text, photo, similar.
SEARCH_RELEVANCE_THRESHOLDS = relevance_thresholds_parse(env.str("SEARCH_RELEVANCE_THRESHOLDS", default=""))
SEARCH_PAGE_SIZE = env.int("SEARCH_PAGE_SIZE", default=20)
SEARCH_MAX_PAGE_SIZE = env.int("SEARCH_MAX_PAGE_SIZE", default=100)
SEARCH_MAX_PAGE = env.int("SEARCH_MAX_PAGE", default=50)
SEARCH_MAX_QUERY_LENGTH = 256
SEARCH_PHOTO_MAX_BYTES = env.int("SEARCH_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# Similar items: candidates fetched before diversification, and how much diversity counts (MMR lambda: 1 = none).
SIMILAR_CANDIDATES = env.int("SIMILAR_CANDIDATES", default=30)
SIMILAR_DIVERSITY_LAMBDA = env.float("SIMILAR_DIVERSITY_LAMBDA", default=0.9)
# Similar items fuse these signals: fused joint vector, image space, text space, and the closeness of the
# categories in the catalog tree. "weighted": the sum of weight x score (each signal relative to its best
# candidate); "rrf": by reciprocal rank. The fused vector already holds the photos and the text; ranking by it with
# the catalog's own structure on top (weighted, category 0.2) beats it alone on luma-dev's same-category and upsell
# lists, where the reciprocal-rank fusion of all four fell below it (README, "Similar items"). "price": the price
# tier against the product's own (0.5 at the same price, 1 from 10% dearer, 0 from 10% cheaper) times the
# category closeness, so that among products of the same kind the same price or a step up (an upsell) comes before
# a cheaper one; 0.1 lifted luma-dev's upsell recall@10 from 0.861 to 0.915 on the half of its lists it was chosen
# on and from 0.846 to 0.908 on the other half, with category precision@5 0.988 -> 0.991. 0 turns it off.
SIMILAR_FUSION = env.str("SIMILAR_FUSION", default="weighted")
SIMILAR_SIGNAL_WEIGHTS = {
    "fused": env.float("SIMILAR_WEIGHT_FUSED", default=1.0),
    "image": env.float("SIMILAR_WEIGHT_IMAGE", default=0.0),
    "text_vector": env.float("SIMILAR_WEIGHT_TEXT_VECTOR", default=0.0),
    "category": env.float("SIMILAR_WEIGHT_CATEGORY", default=0.2),
    "price": env.float("SIMILAR_WEIGHT_PRICE", default=0.1),
}

# Torch threads while encoding a query in a web process (one request, one thread; see EMBEDDING_TORCH_THREADS).
SEARCH_TORCH_THREADS = env.int("SEARCH_TORCH_THREADS", default=1)
# Outside a transaction, run a text search's full-text statement on a second connection (one more per process)
# while the query is encoded and the vector statement runs: both statements at once, on two cores.
SEARCH_PARALLEL_STATEMENTS = env.bool("SEARCH_PARALLEL_STATEMENTS", default=True)
# Encode search queries with an int8 copy of the text model (2.5x faster; products keep their float vectors).
SEARCH_QUERY_INT8 = env.bool("SEARCH_QUERY_INT8", default=True)

SEARCH_CACHE_SECONDS = env.int("SEARCH_CACHE_SECONDS", default=600)
# A Redis that does not answer within this costs a search at most this long (it answers uncached).
SEARCH_REDIS_TIMEOUT_SECONDS = env.float("SEARCH_REDIS_TIMEOUT_SECONDS", default=0.25)
# Popular queries: how fast popularity fades, and how many are warmed after a new generation is activated.
SEARCH_POPULARITY_HALF_LIFE_HOURS = env.float("SEARCH_POPULARITY_HALF_LIFE_HOURS", default=24.0)
# sort=popularity: storefront events (clicks, add-to-carts on search results) of this many days, recounted hourly.
SEARCH_POPULARITY_DAYS = env.int("SEARCH_POPULARITY_DAYS", default=30)
SEARCH_WARM_TOP_QUERIES = env.int("SEARCH_WARM_TOP_QUERIES", default=100)
# Autocomplete (search/suggest.py) offers a query shoppers searched for at least this many times with results
# (first pages) within the last SEARCH_SUGGEST_WINDOW_DAYS days; the counts are refreshed every few minutes.
SEARCH_SUGGEST_MIN_SEARCHES = env.int("SEARCH_SUGGEST_MIN_SEARCHES", default=2)
SEARCH_SUGGEST_WINDOW_DAYS = env.int("SEARCH_SUGGEST_WINDOW_DAYS", default=30)
# Requests per client address without an API key, and with a search key that sets no rate of its own.
SEARCH_ANON_RATE = env.str("SEARCH_ANON_RATE", default="600/min")
# Whether the storefront operations answer clients without an API key (on: the demo and a storefront on the same
# site). Off: every search needs a key (a search-only key a storefront embeds, `manage.py api_keys create`).
SEARCH_ALLOW_ANONYMOUS = env.bool("SEARCH_ALLOW_ANONYMOUS", default=True)
# HNSW query parameters (HNSW_EF_SEARCH, HNSW_MAX_SCAN_TUPLES): settings/database.py, set on every connection.
