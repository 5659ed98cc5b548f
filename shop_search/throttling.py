"""Throttling that survives a Redis outage: when the rate counters cannot be read, requests pass (and it is
logged), because refusing every anonymous search would be worse than not throttling for a while."""

import logging

from rest_framework.throttling import AnonRateThrottle

logger = logging.getLogger(__name__)


class AnonThrottle(AnonRateThrottle):
    def get_rate(self):
        from django.conf import settings

        return settings.SEARCH_ANON_RATE  # read per request, so tests and deployments can change it

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - cache backend errors of any kind
            logger.warning("throttle counters unavailable (Redis down?); request allowed", exc_info=True)
            return True
