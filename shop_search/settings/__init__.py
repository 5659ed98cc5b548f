"""Settings entry point (``DJANGO_SETTINGS_MODULE=shop_search.settings``).

``DJANGO_ENV`` picks the profile: ``local`` (default), ``test`` or ``production``. Each profile lives in its own
module; the shared parts are split by concern (``base``, ``database``, ``celery``).
"""

from .env import env

DJANGO_ENV = env.str("DJANGO_ENV", default="local")

if DJANGO_ENV == "production":
    from .production import *  # noqa: F403
elif DJANGO_ENV == "test":
    from .test import *  # noqa: F403
elif DJANGO_ENV == "local":
    from .local import *  # noqa: F403
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"DJANGO_ENV must be local, test or production, not {DJANGO_ENV!r}")
