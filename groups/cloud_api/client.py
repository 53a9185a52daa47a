"""The one HTTP client of Meta's Graph API (Groups API and group messages); spec §1.4, §4.

Every call has a connect and read timeout, sends the token only in the Authorization header, never
follows redirects, and turns any failure into a typed `CloudAPIError` (see errors.py).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import ProtocolError

from groups.cloud_api.errors import (
    CloudAPIBadResponse,
    CloudAPIConnectionLost,
    CloudAPIError,
    CloudAPITimeout,
    CloudAPIUnavailable,
    error_from_response,
)
from groups.cloud_api.group_calls import MESSAGING_PRODUCT, GroupCalls
from groups.cloud_api.types import (
    read_str,
)

logger = logging.getLogger("groups.cloud_api")


class _BearerAuth(requests.auth.AuthBase):
    """Set `Authorization: Bearer <token>` on each request.

    As session auth it also stops requests from replacing the header with credentials from ~/.netrc,
    and its repr never shows the token.
    """

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth([redacted])"


class CloudAPIClient(GroupCalls):
    """Call Meta's Graph API for one access token; one method per Graph operation (group management in GroupCalls)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        access_token: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 15.0,
        session: requests.Session | None = None,
    ):
        self._base_url = f"{base_url.rstrip('/')}/{api_version.strip('/')}"
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or requests.Session()
        self._session.auth = _BearerAuth(access_token)
        self._session.verify = True
        self._session.headers.update({"Accept": "application/json", "User-Agent": "groupdesk"})

    def __repr__(self) -> str:
        return f"CloudAPIClient(base_url={self._base_url!r})"

    # --- Group messages (spec §4.15, §4.16) ---------------------------------------------------

    def send_message(
        self,
        *,
        phone_number_id: str,
        group_id: str,
        type: str,  # Meta's own name for the field.
        content: dict,
        biz_opaque_callback_data: str | None = None,
    ) -> str:
        """Send a message of `type` with its `content` object to a group and return its wamid.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/groups-messaging
        """
        payload: dict[str, Any] = {
            "messaging_product": MESSAGING_PRODUCT,
            "recipient_type": "group",
            "to": group_id,
            "type": type,
            type: content,
        }
        if biz_opaque_callback_data is not None:
            payload["biz_opaque_callback_data"] = biz_opaque_callback_data
        return self._post_message(phone_number_id, payload)

    # --- Transport -----------------------------------------------------------------------------

    def _post_message(self, phone_number_id: str, payload: dict) -> str:
        path = f"/{phone_number_id}/messages"
        body = self._request("POST", path, json=payload)
        messages = body.get("messages")
        first = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
        return self._required_str(first, "id", method="POST", path=path)

    def _required_str(self, body: dict, key: str, *, method: str, path: str) -> str:
        value = read_str(body.get(key))
        if value is None:
            # The call succeeded (2xx) but its answer lacks what we need: Meta probably acted.
            raise self._logged(CloudAPIBadResponse(f"Meta's answer has no {key}.", title=f"No {key}"), method, path)
        return value

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict | None = None,
        params: dict | None = None,
        data: dict | None = None,
        files: dict | None = None,
    ) -> dict:
        """Send one request to Graph and return its JSON body; raise a CloudAPIError on any failure."""
        try:
            response = self._session.request(
                method,
                self._base_url + path,
                json=json,
                params=params,
                data=data,
                files=files,
                timeout=self._timeout,
                allow_redirects=False,  # A redirect would carry the token elsewhere; treat it as an error.
                verify=True,
            )
        except requests.RequestException as exc:
            raise self._logged(_transport_error(exc), method, path) from exc

        if not 200 <= response.status_code < 300:  # 206 (partial join-request result) is a normal answer.
            raise self._logged(error_from_response(response), method, path)
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            error = CloudAPIBadResponse(
                f"Meta answered HTTP {response.status_code} with a body that is not a JSON object.",
                title="Unreadable response",
                http_status_from_meta=response.status_code,
            )
            raise self._logged(error, method, path)
        return body

    @staticmethod
    def _logged(error: CloudAPIError, method: str, path: str) -> CloudAPIError:
        # Never log the request body (it may hold a message) or headers (the token); fbtrace_id is for Meta support.
        logger.warning(
            "Graph %s %s failed: %s",
            method,
            path,
            type(error).__name__,
            extra={
                "meta_code": error.meta_code,
                "meta_subcode": error.subcode,
                "fbtrace_id": error.fbtrace_id,
                "http_status": error.http_status_from_meta,
                "retry_class": error.retry_class.value,
            },
        )
        return error


def _transport_error(exc: requests.RequestException) -> CloudAPIError:
    """Return the error for a request that got no HTTP answer, by whether Meta may have received it."""
    if isinstance(exc, requests.ConnectTimeout):  # Checked first: it is also a ConnectionError and a Timeout.
        return CloudAPIUnavailable(f"Could not connect to Meta in time: {exc}", title="Meta unreachable")
    if isinstance(exc, requests.ConnectionError) and not _dropped_after_sending(exc):
        return CloudAPIUnavailable(f"Could not connect to Meta: {exc}", title="Meta unreachable")
    if isinstance(exc, requests.Timeout):
        return CloudAPITimeout(
            "Meta did not answer in time; the request may or may not have been applied.",
            title="Meta did not answer in time",
        )
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return CloudAPIConnectionLost(
            "The connection to Meta broke after the request was sent; it may or may not have been applied.",
            title="Connection to Meta lost",
        )
    return CloudAPIError(f"The request to Meta could not be made: {exc}", title="Request not sent")


def _dropped_after_sending(exc: requests.ConnectionError) -> bool:
    # requests wraps a failed connect in MaxRetryError, but a connection closed mid-exchange
    # ("Connection aborted", RemoteDisconnected) in ProtocolError: the request may have reached Meta.
    return bool(exc.args) and isinstance(exc.args[0], ProtocolError)


def get_cloud_api_client() -> CloudAPIClient:
    """Return the client for the current settings (read at call time, so tests and rotations take effect at once).

    Made once per process and settings, and reused: its session keeps the connection to Meta open (TLS set-up is
    most of a short call's time). Precisely once per thread, since a requests session is not thread-safe (gunicorn
    runs threads; a prefork worker has one), and the pid keeps a forked worker off its parent's sockets.
    """
    values = {
        "base_url": settings.WHATSAPP_API_BASE_URL,
        "api_version": settings.WHATSAPP_API_VERSION,
        "access_token": settings.WHATSAPP_ACCESS_TOKEN,
        "connect_timeout": settings.WHATSAPP_CONNECT_TIMEOUT,
        "read_timeout": settings.WHATSAPP_READ_TIMEOUT,
    }
    key = (os.getpid(), *values.values())
    if getattr(_clients, "key", None) != key:
        _clients.client = CloudAPIClient(**values)
        _clients.key = key
    return _clients.client


_clients = threading.local()
