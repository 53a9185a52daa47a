"""Meta's webhook signature: HMAC-SHA256 of the raw body with the app secret (spec §7.3)."""

import hashlib
import hmac

from django.conf import settings

PREFIX = "sha256="


def signature_valid(*, body: bytes, header: str | None) -> bool:
    """Return whether `header` is `sha256=<hex>` of `body` under the current or the previous app secret."""
    if not header or not header.startswith(PREFIX):
        return False
    received = header[len(PREFIX) :].strip().lower().encode("utf-8", "replace")
    # During a secret rotation Meta may still sign with the old one; an empty secret never matches.
    for secret in (settings.WHATSAPP_APP_SECRET, settings.WHATSAPP_APP_SECRET_PREVIOUS):
        if secret:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
            if hmac.compare_digest(expected, received):
                return True
    return False
