"""Live regions: parts of desk pages that refresh in place while webhooks change the data under them (issue 17 §2).

How it works (the README's "Live updates" says why this and not server-sent events):

- A region is an element with an id and `live_attrs(...)`: htmx (served from the pinned django-htmx package) asks
  its URL again every second while the tab is visible (static/groupdesk/live.js), sending the version the region
  shows in the `X-Live-Version` header.
- The view computes the current version from the database only (rows' `updated_at`, the newest history row), so
  every gunicorn process answers alike and nothing is kept per process. Same version: `204 No Content`, which
  htmx swaps nothing for; a poll costs a few indexed lookups. Changed: the page as usual, stamped with the new
  version; live.js takes the region out of it.
- How the new region replaces the old one depends on what is inside: `swap` (read-only content: the dashboard, a
  fragment) replaces it whole; `rows` (a changelist) copies changed cells only, so ticked checkboxes and the
  actions bar stay; `fields` (a change form) copies the read-only values only, so nobody's typing is lost.
"""

import functools
import hashlib
from collections.abc import Callable
from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.html import format_html

VERSION_HEADER = "X-Live-Version"
POLL_EVERY = "1s"  # The bound is 2 s from the webhook to the screen: one poll plus one render.

Merge = Literal["swap", "rows", "fields"]


def live_version(*parts: object) -> str:
    """Return a short fingerprint of what a region shows (its rows' update times, counts, newest history id)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def live_attrs(*, url: str, version: str, merge: Merge = "swap") -> str:
    """Return the attributes that make an element (which must have an id) a live region polling `url`."""
    return format_html(
        'hx-get="{}" hx-trigger="every {}, live:refresh" hx-swap="none" data-live-version="{}" data-live-merge="{}"',
        url, POLL_EVERY, version, merge,
    )


def is_live_poll(request: HttpRequest) -> bool:
    """Return whether this request is a region's poll (it names the version it shows) rather than a page view."""
    return VERSION_HEADER in request.headers


def live_unchanged(request: HttpRequest, version: str) -> HttpResponse | None:
    """Return the empty answer a poll gets when its region already shows `version`, else None (render it)."""
    if request.headers.get(VERSION_HEADER) == version:
        return live_stamp(HttpResponse(status=204), version)
    return None


def live_stamp(response: HttpResponse, version: str) -> HttpResponse:
    """Mark a response as a live answer (live.js stops polling on anything else, e.g. the login page)."""
    response[VERSION_HEADER] = version
    patch_cache_control(response, no_store=True)  # A cached page would show an old version forever.
    return response


def live_answer(request: HttpRequest, response: HttpResponse, version: str) -> HttpResponse:
    """Stamp a page with its version; rendered for a poll, it leaves the user's flash messages where they are.

    A poll's page is thrown away but for its region; without this, rendering it would mark "Queued 1 message"
    as shown, and the page the user is being redirected to in another tab would not show it.
    """
    storage = getattr(request, "_messages", None)
    if is_live_poll(request) and storage is not None and hasattr(response, "add_post_render_callback"):
        response.add_post_render_callback(lambda _response: setattr(storage, "used", False))
    return live_stamp(response, version)


def live_page(*, version: Callable[[HttpRequest], str]) -> Callable:
    """Decorate a page view so that its regions' polls are answered 204 while `version(request)` has not moved."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            current = version(request)
            if is_live_poll(request) and (unchanged := live_unchanged(request, current)):
                return unchanged
            request.live_version = current  # The page's template stamps its regions with it.
            response = view(request, *args, **kwargs)
            return live_answer(request, response, current)

        return wrapped

    return decorate
