"""Creating, finding and revoking API keys. A key is shown once, when it is created; only its SHA-256 is kept."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from search.filters import Filters

from .models import ApiKey
from .throttling import parse_rate

# "ss_search_" or "ss_admin_" and 32 URL-safe characters (192 random bits).
KEY_PREFIX = "ss_"
KEY_RANDOM_BYTES = 24
# The visible part of a key kept in ``ApiKey.prefix``: the scope and 8 characters of the secret.
VISIBLE_SECRET_CHARACTERS = 8
# ``last_used_at`` is written at most this often per key (one UPDATE, not one per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_ALLOWED_ORIGINS = 50


class ApiKeyError(ValueError):
    """A key that cannot be created as asked; the message says why."""


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(
    *,
    name: str,
    scope: str = ApiKey.Scope.SEARCH,
    rate: str = "",
    allowed_origins: list[str] | tuple[str, ...] = (),
    filters: dict | None = None,
    user=None,
) -> tuple[ApiKey, str]:
    """A new key and its secret (shown to the person who asked for it, then never again)."""
    fields = api_key_settings_clean(scope=scope, rate=rate, allowed_origins=allowed_origins, filters=filters)
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("a key needs a name of at most 100 characters")
    if scope == ApiKey.Scope.ADMIN and (user is None or not user.is_staff or not user.is_active):
        raise ApiKeyError("an admin key acts as an active staff user: name one")
    key = ApiKey(name=name, scope=scope, user=user if scope == ApiKey.Scope.ADMIN else None, **fields)
    raw = api_key_secret_assign(key=key)
    key.save()
    return key, raw


def api_key_secret_assign(*, key: ApiKey) -> str:
    """Give the unsaved ``key`` a new secret: its prefix and hash are set, the secret itself is returned."""
    raw = f"{KEY_PREFIX}{key.scope}_{secrets.token_urlsafe(KEY_RANDOM_BYTES)}"
    key.prefix = raw[: len(KEY_PREFIX) + len(key.scope) + 1 + VISIBLE_SECRET_CHARACTERS]
    key.hashed_key = key_hash(raw)
    return raw


def api_key_settings_clean(*, scope: str, rate: str, allowed_origins, filters: dict | None) -> dict:
    """The rate, origins and filters of a key, checked and in their stored form; ``ApiKeyError`` otherwise."""
    if scope not in ApiKey.Scope.values:
        raise ApiKeyError(f"scope must be one of {', '.join(ApiKey.Scope.values)}")
    rate = (rate or "").strip()
    if len(rate) > 32:
        raise ApiKeyError("a rate is written like 100/min")
    if rate:
        try:
            count, _ = parse_rate(rate)
        except ValueError as exc:
            raise ApiKeyError(str(exc)) from None
        if count < 1:
            raise ApiKeyError("a rate allows at least one request")
    origins = []
    for origin in allowed_origins:
        origin = origin.strip().rstrip("/").lower()
        if not origin:
            continue
        parts = urlsplit(origin)
        if len(origin) > 255 or parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ApiKeyError(f"{origin!r} is not an origin: write it as https://shop.example.com[:port]")
        origins.append(origin)
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise ApiKeyError(f"at most {MAX_ALLOWED_ORIGINS} origins")
    if rate and scope != ApiKey.Scope.SEARCH:
        raise ApiKeyError("an admin key is not throttled: it takes no rate")
    if filters and scope != ApiKey.Scope.SEARCH:
        raise ApiKeyError("filters hold a search key's searches; an admin key has none")
    if filters is not None and not isinstance(filters, dict):
        raise ApiKeyError('filters are an object like {"brand": "Luma"}')
    try:
        held = Filters.from_params(filters or {})
    except ValueError as exc:
        raise ApiKeyError(f"filters: {exc}") from None
    return {"rate": rate, "allowed_origins": list(dict.fromkeys(origins)), "filters": held.as_dict()}


# Search keys found are remembered per process (a storefront sends its key with every keystroke of an
# autocomplete) while the keys' version in the cache stays the same: every write of a key (created, changed,
# revoked, deleted) bumps it on commit, so a revocation holds from the next request on. Without the cache, every
# request reads the key. Admin keys are always read (their user's rights may change).
KEYS_VERSION_KEY = "api-keys:version"
FOUND_KEEP = 1024
FOUND_MAX_SECONDS = 300.0
_found: dict[str, tuple[object, float, ApiKey | None]] = {}


def _keys_version() -> object:
    try:
        return cache.get(KEYS_VERSION_KEY, 0)
    except Exception:  # noqa: BLE001 - no cache: read the key every time
        return None


def api_keys_changed() -> None:
    """After any write of a key: every process reads keys again."""
    try:
        try:
            cache.incr(KEYS_VERSION_KEY)
        except ValueError:  # no version yet
            if not cache.add(KEYS_VERSION_KEY, 1, timeout=None):
                cache.incr(KEYS_VERSION_KEY)
    except Exception:  # noqa: BLE001 - without the cache nothing is remembered either
        pass
    _found.clear()


def api_key_find(raw: str) -> ApiKey | None:
    """The active key whose secret is ``raw`` (its staff user loaded), or None."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    hashed = key_hash(raw)
    version = _keys_version()
    known = _found.get(hashed)
    fresh = known is not None and version is not None and known[0] == version
    if fresh and time.monotonic() - known[1] < FOUND_MAX_SECONDS:
        key = known[2]
        if key is None or key.scope == ApiKey.Scope.SEARCH:
            _last_used_note(key)
            return key
    key = ApiKey.objects.select_related("user").filter(hashed_key=hashed, revoked_at=None).first()
    if version is not None:
        if len(_found) >= FOUND_KEEP:
            _found.clear()
        _found[hashed] = (version, time.monotonic(), key)
    _last_used_note(key)
    return key


def _last_used_note(key: ApiKey | None) -> None:
    if key is None:
        return
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


def api_key_revoke(*, key: ApiKey) -> None:
    """Revoke ``key`` at once: the next request with it is a 401."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=key.revoked_at)
        transaction.on_commit(api_keys_changed)
