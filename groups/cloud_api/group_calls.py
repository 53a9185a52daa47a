"""Group management calls of the Graph client (spec §4.1-4.13): groups, invite links, join requests, removals.

`GroupCalls` is one part of `CloudAPIClient` (client.py), which supplies `_request()` and the transport; it is
split out only to keep each module readable. Use it through the client, never on its own.
"""

from __future__ import annotations

from groups.cloud_api.errors import CloudAPIError
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


class GroupCalls:
    """The group-management methods of `CloudAPIClient` (one per Graph operation)."""

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
