"""Production: no debug, and no start without a real secret key."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .env import env

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure") or len(set(SECRET_KEY)) < 8:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 32 characters in production "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))")'
    )
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
