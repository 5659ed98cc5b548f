"""Test profile: fast password hashing, a key of its own, isolated cache keys."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES
from .env import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-test-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES["default"]["KEY_PREFIX"] = "shop-search-test"

# Tiny deterministic encoders unless a test (or the environment) asks for the real ones: the suite stays fast on
# 2 cores, and the tests that load the real models say so explicitly.
EMBEDDING_TEXT_MODEL = env.str("EMBEDDING_TEXT_MODEL", default="hashing")
EMBEDDING_IMAGE_MODEL = env.str("EMBEDDING_IMAGE_MODEL", default="pixel-stats")
EMBEDDING_IMAGE_COLOUR = env.float("EMBEDDING_IMAGE_COLOUR", default=0.0)  # pixel-stats is a colour histogram
EMBEDDING_JOINT_DIM = env.int("EMBEDDING_JOINT_DIM", default=32)
EMBEDDING_TORCH_THREADS = env.int("EMBEDDING_TORCH_THREADS", default=1)

# The browser tests' live server answers each request in a thread of its own: a connection kept open past the
# request would outlive its thread and keep the test database from being dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Likewise the connection of the search thread (``search.selectors``): the one test of that path closes it.
SEARCH_PARALLEL_STATEMENTS = env.bool("SEARCH_PARALLEL_STATEMENTS", default=False)
# CI shares a loaded 2-core machine: a search waits longer for Redis than in production, so that a slow answer
# is not taken for "Redis is down" (tests/test_search.py has the test where it is down).
SEARCH_REDIS_TIMEOUT_SECONDS = env.float("SEARCH_REDIS_TIMEOUT_SECONDS", default=2.0)
