"""Who is asking: the client address that lockouts count, trusting the proxy only when told to."""

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
