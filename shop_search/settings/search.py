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
# Candidates each vector signal contributes (and the relevance cut-off of a text search's matching set).
SEARCH_VECTOR_CANDIDATES = env.int("SEARCH_VECTOR_CANDIDATES", default=30)
# Full-text matches considered for ranking, facets and the total (the best by full-text rank).
SEARCH_FULLTEXT_CANDIDATES = env.int("SEARCH_FULLTEXT_CANDIDATES", default=200)
SEARCH_PAGE_SIZE = env.int("SEARCH_PAGE_SIZE", default=20)
SEARCH_MAX_PAGE_SIZE = env.int("SEARCH_MAX_PAGE_SIZE", default=100)
SEARCH_MAX_PAGE = env.int("SEARCH_MAX_PAGE", default=50)
SEARCH_MAX_QUERY_LENGTH = 256
SEARCH_PHOTO_MAX_BYTES = env.int("SEARCH_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# Similar items: candidates fetched before diversification, and how much diversity counts (MMR lambda: 1 = none).
SIMILAR_CANDIDATES = env.int("SIMILAR_CANDIDATES", default=30)
SIMILAR_DIVERSITY_LAMBDA = env.float("SIMILAR_DIVERSITY_LAMBDA", default=0.9)
# Similar items fuse these signals by reciprocal rank: fused joint vector, image space, text space, and the
# closeness of the categories in the catalog tree.
SIMILAR_SIGNAL_WEIGHTS = {
    "fused": env.float("SIMILAR_WEIGHT_FUSED", default=1.0),
    "image": env.float("SIMILAR_WEIGHT_IMAGE", default=0.5),
    "text_vector": env.float("SIMILAR_WEIGHT_TEXT_VECTOR", default=0.5),
    "category": env.float("SIMILAR_WEIGHT_CATEGORY", default=0.5),
}

# Torch threads while encoding a query in a web process (one request, one thread; see EMBEDDING_TORCH_THREADS).
SEARCH_TORCH_THREADS = env.int("SEARCH_TORCH_THREADS", default=1)
# Outside a transaction, run a text search's full-text statement on a second connection (one more per process)
# while the query is encoded and the vector statement runs: both statements at once, on two cores.
SEARCH_PARALLEL_STATEMENTS = env.bool("SEARCH_PARALLEL_STATEMENTS", default=True)
# Encode search queries with an int8 copy of the text model (2.5x faster; products keep their float vectors).
SEARCH_QUERY_INT8 = env.bool("SEARCH_QUERY_INT8", default=True)

SEARCH_CACHE_SECONDS = env.int("SEARCH_CACHE_SECONDS", default=600)
# Popular queries: how fast popularity fades, and how many are warmed after a new generation is activated.
SEARCH_POPULARITY_HALF_LIFE_HOURS = env.float("SEARCH_POPULARITY_HALF_LIFE_HOURS", default=24.0)
SEARCH_WARM_TOP_QUERIES = env.int("SEARCH_WARM_TOP_QUERIES", default=100)
SEARCH_ANON_RATE = env.str("SEARCH_ANON_RATE", default="600/min")
# HNSW query parameters (HNSW_EF_SEARCH, HNSW_MAX_SCAN_TUPLES): settings/database.py, set on every connection.
