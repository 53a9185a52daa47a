"""The one HTTP client of Meta's Graph API (Groups API and group messages); spec §1.4, §4.

Every call has a connect and read timeout, sends the token only in the Authorization header, never
follows redirects, and turns any failure into a typed `CloudAPIError` (see errors.py).
"""

from __future__ import annotations

import logging
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
from groups.cloud_api.types import (
    FailedJoinRequest,
    GroupInfo,
    GroupPage,
    GroupSummary,
    JoinRequestInfo,
    JoinRequestPage,
    JoinRequestResult,
    ParticipantInfo,
    next_cursor,
    read_bool,
    read_errors,
    read_int,
    read_str,
    read_timestamp,
)
from groups.identity import normalize_wa_id

logger = logging.getLogger("groups.cloud_api")

MESSAGING_PRODUCT = "whatsapp"
# The multipart field of the group picture: Meta's reference body table (and pywa) name it so; its curl sample
# shows `file` (Corrections C5). Our REST endpoint keeps its own field `file` (CONTRACT).
GROUP_PICTURE_FIELD = "profile_picture_file"
GROUP_INFO_FIELDS = (
    "subject",
    "description",
    "participants",
    "join_approval_mode",
    "suspended",
    "creation_timestamp",
    "total_participant_count",
)


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


class CloudAPIClient:
    """Call Meta's Graph API for one access token; one method per Graph operation."""

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

    # --- Group management (spec §4.1-4.13) ---------------------------------------------------

    def create_group(
        self,
        *,
        phone_number_id: str,
        subject: str,
        description: str | None = None,
        join_approval_mode: str | None = None,
    ) -> str:
        """Ask Meta to create a group and return its request_id; the group ID comes by webhook.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        payload = _without_none(
            {
                "messaging_product": MESSAGING_PRODUCT,
                "subject": subject,
                "description": description,
                "join_approval_mode": join_approval_mode,
            }
        )
        path = f"/{phone_number_id}/groups"
        body = self._request("POST", path, json=payload)
        return self._required_str(body, "request_id", method="POST", path=path)

    def list_groups(self, *, phone_number_id: str, limit: int = 25, after: str | None = None) -> GroupPage:
        """Return one page of the number's active groups.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        params = _without_none({"limit": limit, "after": after})
        body = self._request("GET", f"/{phone_number_id}/groups", params=params)
        # Unlike other Graph lists, `data` is an object holding `groups` (spec §4.2).
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        raw_groups = data.get("groups") if isinstance(data.get("groups"), list) else []
        groups = [
            GroupSummary(
                group_id=read_str(raw.get("id")) or "",
                subject=read_str(raw.get("subject")) or "",
                created_at=read_timestamp(raw.get("created_at")),
            )
            for raw in raw_groups
            if isinstance(raw, dict) and read_str(raw.get("id"))
        ]
        return GroupPage(groups=groups, after=next_cursor(body, count=len(raw_groups)))

    def get_group_info(self, *, group_id: str, fields: tuple[str, ...] | list[str] = GROUP_INFO_FIELDS) -> GroupInfo:
        """Return the requested fields of a group; absent fields are None.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        params = {"fields": ",".join(fields)} if fields else None
        body = self._request("GET", f"/{group_id}", params=params)
        raw_participants = body.get("participants")
        participants = None
        if isinstance(raw_participants, list):
            participants = [
                ParticipantInfo(
                    wa_id=normalize_wa_id(read_str(raw.get("wa_id"))),
                    user_id=read_str(raw.get("user_id")),
                    parent_user_id=read_str(raw.get("parent_user_id")),
                    username=read_str(raw.get("username")),
                )
                for raw in raw_participants
                if isinstance(raw, dict)
            ]
        return GroupInfo(
            group_id=read_str(body.get("id")) or group_id,
            subject=read_str(body.get("subject")),
            description=read_str(body.get("description")),
            join_approval_mode=read_str(body.get("join_approval_mode")),
            suspended=read_bool(body.get("suspended")),
            created_at=read_timestamp(body.get("creation_timestamp")),
            participants=participants,
            total_participant_count=read_int(body.get("total_participant_count")),
        )

    def update_group_settings(
        self, *, group_id: str, subject: str | None = None, description: str | None = None
    ) -> dict:
        """Ask Meta to change the subject and/or description; the outcome comes by webhook.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        if subject is None and description is None:
            raise ValueError("update_group_settings needs a subject or a description")
        payload = _without_none(
            {"messaging_product": MESSAGING_PRODUCT, "subject": subject, "description": description}
        )
        return self._request("POST", f"/{group_id}", json=payload)

    def update_group_picture(self, *, group_id: str, jpeg: bytes) -> dict:
        """Upload a square JPEG as the group picture (multipart); the outcome comes by webhook.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        return self._request(
            "POST",
            f"/{group_id}",
            data={"messaging_product": MESSAGING_PRODUCT},
            files={GROUP_PICTURE_FIELD: ("group-picture.jpg", jpeg, "image/jpeg")},
        )

    def delete_group(self, *, group_id: str) -> dict:
        """Ask Meta to delete a group (all participants leave); the outcome comes by webhook.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        return self._request("DELETE", f"/{group_id}")

    def get_invite_link(self, *, group_id: str) -> str:
        """Return the group's current invite link.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        path = f"/{group_id}/invite_link"
        body = self._request("GET", path)
        return self._required_str(body, "invite_link", method="GET", path=path)

    def reset_invite_link(self, *, group_id: str) -> str:
        """Replace the invite link (every earlier link stops working) and return the new one.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        path = f"/{group_id}/invite_link"
        body = self._request("POST", path, json={"messaging_product": MESSAGING_PRODUCT})
        return self._required_str(body, "invite_link", method="POST", path=path)

    def delete_invite_link(self, *, group_id: str) -> None:
        """Delete the invite link; reset it to get a new one.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/reference/groups/groups-invite-link-api
        """
        path = f"/{group_id}/invite_link"
        body = self._request("DELETE", path, json={"messaging_product": MESSAGING_PRODUCT})
        # `success` is typed as a string ("true") but may come as a boolean (spec §4.8).
        if "success" in body and read_bool(body["success"]) is False:
            error = CloudAPIError(
                "Meta answered that the invite link was not deleted.", title="Invite link not deleted"
            )
            raise self._logged(error, "DELETE", path)

    def list_join_requests(self, *, group_id: str, after: str | None = None) -> JoinRequestPage:
        """Return one page of the group's open join requests.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        params = {"after": after} if after else None
        body = self._request("GET", f"/{group_id}/join_requests", params=params)
        raw_items = body.get("data") if isinstance(body.get("data"), list) else []
        items = [
            JoinRequestInfo(
                join_request_id=read_str(raw.get("join_request_id")) or "",
                wa_id=normalize_wa_id(read_str(raw.get("wa_id"))),
                user_id=read_str(raw.get("user_id")),
                parent_user_id=read_str(raw.get("parent_user_id")),
                username=read_str(raw.get("username")),
                created_at=read_timestamp(raw.get("creation_timestamp")),
            )
            for raw in raw_items
            if isinstance(raw, dict) and read_str(raw.get("join_request_id"))
        ]
        return JoinRequestPage(items=items, after=next_cursor(body, count=len(raw_items)))

    def approve_join_requests(self, *, group_id: str, join_request_ids: list[str]) -> JoinRequestResult:
        """Approve join requests; a partial failure (HTTP 206) is a result, not an error.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        payload = {"messaging_product": MESSAGING_PRODUCT, "join_requests": list(join_request_ids)}
        body = self._request("POST", f"/{group_id}/join_requests", json=payload)
        return _join_request_result(body, succeeded_key="approved_join_requests")

    def reject_join_requests(self, *, group_id: str, join_request_ids: list[str]) -> JoinRequestResult:
        """Reject join requests (no webhook follows); partial failures are in the result.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        payload = {"messaging_product": MESSAGING_PRODUCT, "join_requests": list(join_request_ids)}
        body = self._request("DELETE", f"/{group_id}/join_requests", json=payload)
        return _join_request_result(body, succeeded_key="rejected_join_requests")

    def remove_participants(self, *, group_id: str, users: list[str]) -> dict:
        """Ask Meta to remove 1-8 participants (phone or BSUID); the outcome comes by webhook.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/reference
        """
        payload = {"messaging_product": MESSAGING_PRODUCT, "participants": [{"user": user} for user in users]}
        return self._request("DELETE", f"/{group_id}/participants", json=payload)

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

    def pin_message(self, *, phone_number_id: str, group_id: str, message_id: str, expiration_days: int) -> str:
        """Pin a group message for 1-30 days and return the wamid of the pin action.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/groups-messaging
        """
        if isinstance(expiration_days, bool) or not isinstance(expiration_days, int):
            raise TypeError("expiration_days must be an int")  # Meta types it integer (spec §4.16).
        pin = {"type": "pin", "message_id": message_id, "expiration_days": expiration_days}
        return self._post_message(phone_number_id, _pin_payload(group_id, pin))

    def unpin_message(self, *, phone_number_id: str, group_id: str, message_id: str) -> str:
        """Unpin a group message and return the wamid of the unpin action.

        https://developers.facebook.com/documentation/business-messaging/whatsapp/groups/groups-messaging
        """
        pin = {"type": "unpin", "message_id": message_id}
        return self._post_message(phone_number_id, _pin_payload(group_id, pin))

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
    """Return a client built from the current settings (read at call time, so tests can override them)."""
    return CloudAPIClient(
        base_url=settings.WHATSAPP_API_BASE_URL,
        api_version=settings.WHATSAPP_API_VERSION,
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        connect_timeout=settings.WHATSAPP_CONNECT_TIMEOUT,
        read_timeout=settings.WHATSAPP_READ_TIMEOUT,
    )


def _pin_payload(group_id: str, pin: dict) -> dict:
    return {
        "messaging_product": MESSAGING_PRODUCT,
        "recipient_type": "group",
        "to": group_id,
        "type": "pin",
        "pin": pin,
    }


def _without_none(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


def _join_request_result(body: dict, *, succeeded_key: str) -> JoinRequestResult:
    succeeded = [str(item) for item in body.get(succeeded_key) or [] if read_str(item)]
    failed = [
        FailedJoinRequest(
            join_request_id=read_str(raw.get("join_request_id")) or "", errors=read_errors(raw.get("errors"))
        )
        for raw in body.get("failed_join_requests") or []
        if isinstance(raw, dict)
    ]
    errors = read_errors(body.get("errors"))
    return JoinRequestResult(succeeded=succeeded, failed=failed, partial=bool(failed or errors), errors=errors)
