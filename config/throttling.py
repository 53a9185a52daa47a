"""REST throttles: a budget per user, and a smaller one for requests that make Groupdesk call Meta.

Counters live in the default cache (CACHE_URL): Redis in production, so every web process
shares them. Rates are read per request, so a changed setting applies without a restart of
the class (and tests can override them).
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)

META_CALLS_SCOPE = "meta_calls"
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class _LiveRatesFailOpen:
    """Read rates from the current settings; let requests through when the cache is down."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            return super().get_rate()

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # A cache outage must not take the API down; throttling is a safeguard.
            logger.warning("throttle: cache unavailable, request not counted", exc_info=True)
            return True


class UserThrottle(_LiveRatesFailOpen, UserRateThrottle):
    """The "user" rate for every request (per user; per address when anonymous)."""


class MetaCallsThrottle(_LiveRatesFailOpen, ScopedRateThrottle):
    """The "meta_calls" rate, per user, for the methods of a view that call Meta.

    A view opts in with `throttle_scope = "meta_calls"`; `meta_call_methods` names the methods
    that call Meta (default: the unsafe ones), so its plain reads stay unthrottled.
    """

    def allow_request(self, request, view) -> bool:
        if getattr(view, "throttle_scope", None) != META_CALLS_SCOPE:
            return True
        if request.method not in getattr(view, "meta_call_methods", UNSAFE_METHODS):
            return True
        return super().allow_request(request, view)
