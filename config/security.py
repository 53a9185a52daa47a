"""Who is asking (the client address that lockouts count, trusting the proxy only when told to), and the
Content-Security-Policy every response carries."""

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address: REMOTE_ADDR, or the address our own proxy saw.

    With USE_X_FORWARDED_FOR, the last X-Forwarded-For entry is taken: nginx's
    `$proxy_add_x_forwarded_for` appends the peer it saw, while earlier entries come from
    the client and can be forged.
    """
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR", "")


def content_security_policy() -> dict:
    """Return CONTENT_SECURITY_POLICY (django-csp), the same on every response, so on every staff page."""
    # Scripts and <style> blocks only from our origin or carrying the response's nonce
    # (`nonce="{{ request.csp_nonce }}"` in a template). style="" attributes (Django's admin widgets, our charts)
    # cannot carry a nonce and cannot run script: allowed on their own. /api/docs/ needs no exception: Swagger UI
    # is served by the app itself (drf-spectacular-sidecar).
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF, NONCE],
            "style-src": [SELF, NONCE],
            "style-src-attr": [UNSAFE_INLINE],
            "img-src": [SELF, "data:"],
            "object-src": [NONE],
            "base-uri": [SELF],
            "form-action": [SELF],
            "frame-ancestors": [NONE],
        },
    }
