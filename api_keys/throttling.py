"""Throttling of storefront clients: a fixed-window counter per client in Redis, one round trip per request (INCR
and EXPIRE pipelined). DRF's default throttle keeps every request time of the window in one cache entry and reads,
trims and writes it back on each request: at a generous rate that entry grows to thousands of timestamps, and every
search pays to move it. A fixed window lets a client reach twice the rate across a window boundary, which is the
usual price of the cheap counter.

A client is its address (as seen through ``TRUSTED_PROXY_COUNT`` proxies), and with a search-only API key the key
and its address together, at the key's own rate (per address, like Algolia's ``maxQueriesPerIPPerHour``: a key
embedded in a storefront is shared by all its shoppers). Staff (tokens, admin keys, the admin's session) are not
throttled.

When Redis cannot be reached, requests pass (and it is logged), because refusing every anonymous search would be
worse than not throttling for a while."""

import ipaddress
import logging
import time

import redis
from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400,
           "day": 86400}  # fmt: skip


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` -> (600 requests, 60 seconds)."""
    count, _, period = rate.partition("/")
    if period not in PERIODS:
        raise ValueError(f"bad rate {rate!r}: use N/s, N/min, N/hour or N/day")
    return int(count), PERIODS[period]


class ClientThrottle(BaseThrottle):
    def __init__(self):
        self.retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        if request.user and request.user.is_authenticated:
            return True
        from .models import ApiKey

        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        # Read per request: tests and deployments change the setting, and a key's rate is edited in the admin.
        rate = api_key.rate if api_key and api_key.rate else settings.SEARCH_ANON_RATE
        return self.allow(f"key{api_key.pk}:{self.get_ident(request)}" if api_key else self.get_ident(request), rate)

    def get_ident(self, request) -> str:
        """The client's address; an IPv6 client is its /64 (one subscriber's network: addresses within it are
        free to pick)."""
        ident = super().get_ident(request)
        if ":" in ident:
            try:
                return str(ipaddress.ip_network(f"{ident}/64", strict=False))
            except ValueError:
                pass
        return ident

    def allow(self, ident: str, rate: str) -> bool:
        """Count one request of ``ident`` at ``rate``; False once it is over."""
        from search.cache import client, redis_key

        limit, period = parse_rate(rate)
        now = time.time()
        key = redis_key("throttle", ident, int(now // period))
        try:
            pipe = client().pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count, _ = pipe.execute()
        except redis.RedisError:
            logger.warning("throttle counters unavailable (Redis down?); request allowed", exc_info=True)
            return True
        if count > limit:
            self.retry_after = period - now % period
            return False
        return True

    def wait(self) -> float | None:
        return self.retry_after


def refused_request_count(request) -> None:
    """Count a request refused before throttling (an unknown or revoked key, a key from a disallowed origin) in
    its client's anonymous bucket, and answer 429 once that is spent: made-up keys cost a hash and a query each,
    and DRF throttles only after authentication has passed."""
    throttle = ClientThrottle()
    if not throttle.allow(throttle.get_ident(request), settings.SEARCH_ANON_RATE):
        raise Throttled(throttle.wait())
