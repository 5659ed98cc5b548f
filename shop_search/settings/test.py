"""Test profile: fast password hashing, a key of its own, isolated cache keys."""

from .base import *  # noqa: F403
from .base import CACHES
from .env import env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-test-key")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES["default"]["KEY_PREFIX"] = "shop-search-test"
