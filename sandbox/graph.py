"""The Graph side: every Groups API call of spec §4.1-4.16, checked as Meta checks it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP

from sandbox.config import SandboxConfig
from sandbox.errors import AuthError, GraphError, invalid, webhook_error
from sandbox.jpeg import jpeg_size
from sandbox.simulation import FAIL_SEND, Simulator
from sandbox.state import MAX_PARTICIPANTS, MAX_PINS, Group, Message, PhoneNumber, Pin, World, now

MAX_GROUPS_PER_NUMBER = 10_000
MAX_PICTURE_BYTES = 5 * 1024 * 1024
GROUP_MESSAGE_TYPES = {"text", "image", "video", "audio", "document", "sticker", "template", "pin"}
INDIVIDUAL_MESSAGE_TYPES = GROUP_MESSAGE_TYPES - {"pin"}
MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}
INFO_FIELDS = ["subject", "description", "creation_timestamp", "suspended", "total_participant_count",
               "participants", "join_approval_mode"]  # Ordered as graph/get_group_info.response.json.
USER_RECIPIENT = re.compile(r"\+?\d{5,20}|[A-Z]{2}\.[A-Za-z0-9]{1,128}")  # A phone number or a BSUID.
RATE_LIMIT_ME = "RATELIMITME"
TIMEOUT_ME = "TIMEOUTME"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # Lower-cased names.
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: dict
    hang: float = 0.0  # Seconds to wait before answering (read-timeout fault).
    headers: dict[str, str] = field(default_factory=dict)


def _cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart pagination "
                                 "from the first page.") from exc


class GraphApi:
    """Answer Graph calls from the in-memory world; the simulator sends the webhooks that follow."""

    def __init__(self, *, config: SandboxConfig, world: World, sim: Simulator, rng: random.Random):
        self.config = config
        self.world = world
        self.sim = sim
        self.rng = rng
        self._calls = 0
        self._calls_lock = threading.Lock()

    # -- entry point ---------------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Authenticate, apply faults, route; every refusal becomes Meta's error envelope."""
        try:
            self._authenticate(request)
            parts = request.path[len(self.config.graph_prefix):].strip("/").split("/")
            is_message = len(parts) == 2 and parts[1] == "messages"
            self._faults_before(rate_limit_code=130429 if is_message else 131208)
            response = self._route(request, parts)
        except GraphError as exc:
            return Response(exc.http_status, exc.envelope())
        faults = self.config.faults
        if faults.timeout_rate and self.rng.random() < faults.timeout_rate:
            response.hang = max(response.hang, faults.timeout_seconds)
        return response

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("access_token", "")
        if not token:
            raise AuthError("An active access token must be used to query information about the current user.")
        if token != self.config.access_token:
            raise AuthError("Session has expired or the token is invalid.")

    def _faults_before(self, *, rate_limit_code: int) -> None:
        faults = self.config.faults
        with self._calls_lock:
            self._calls += 1
            position = (self._calls - 1) % (faults.rate_limit_every + faults.rate_limit_burst) \
                if faults.rate_limit_every else -1
        if faults.slow_rate and self.rng.random() < faults.slow_rate:
            time.sleep(faults.slow_seconds)
        if position >= faults.rate_limit_every:
            raise GraphError(rate_limit_code, "Rate limit burst (sandbox fault mode). Retry later.", http_status=429)
        if faults.error_rate and self.rng.random() < faults.error_rate:
            if self.rng.random() < 0.5:
                raise GraphError(131000, "Something went wrong (sandbox fault mode).",
                                 message="(#131000) Something went wrong")
            raise GraphError(2, "Service temporarily unavailable (sandbox fault mode).",
                             message="(#2) Service temporarily unavailable")

    def _route(self, request: Request, parts: list[str]) -> Response:
        method = request.method
        with self.world.lock:
            if len(parts) == 2 and parts[1] in ("groups", "messages") and parts[0].isdigit():
                phone = self.world.phone_number(parts[0])
                if parts[1] == "groups" and method == "POST":
                    return self.create_group(phone, self._json(request))
                if parts[1] == "groups" and method == "GET":
                    return self.list_groups(phone, request.query)
                if parts[1] == "messages" and method == "POST":
                    return self.send_message(phone, self._json(request))
            elif 1 <= len(parts) <= 2 and parts[0]:
                action = parts[1] if len(parts) == 2 else ""
                handler = {
                    ("GET", ""): self.get_info,
                    ("POST", ""): self.update_settings,
                    ("DELETE", ""): self.delete_group,
                    ("GET", "invite_link"): self.get_invite_link,
                    ("POST", "invite_link"): self.reset_invite_link,
                    ("DELETE", "invite_link"): self.delete_invite_link,
                    ("GET", "join_requests"): self.list_join_requests,
                    ("POST", "join_requests"): self.approve_join_requests,
                    ("DELETE", "join_requests"): self.reject_join_requests,
                    ("DELETE", "participants"): self.remove_participants,
                    ("POST", "participants"): self.add_participants,
                }.get((method, action))
                if handler is not None:
                    group = self.world.live_group(parts[0])
                    if group is None:
                        raise GraphError(131041, "No group with this ID exists for this business phone number, "
                                                 "or the business is no longer a member of it.")
                    return handler(group, request)
        raise GraphError(100, f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist, "
                              "cannot be loaded due to missing permissions, or does not support this operation.",
                         message=f"Unsupported {method.lower()} request.")

    # -- helpers -------------------------------------------------------------------------------------------------

    @staticmethod
    def _json(request: Request, *, product: bool = True) -> dict:
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid("The request body is not valid JSON.") from exc
        if not isinstance(data, dict):
            raise invalid("The request body must be a JSON object.")
        if product and data.get("messaging_product") != "whatsapp":
            raise invalid("Param messaging_product must be 'whatsapp'.")
        return data

    @staticmethod
    def _subject(value: object) -> str:
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= 128:
            raise invalid("Param subject must be a string of 1 to 128 characters.")
        return value.strip()

    @staticmethod
    def _description(value: object) -> str:
        if not isinstance(value, str) or len(value) > 2048:
            raise invalid("Param description must be a string of at most 2048 characters.")
        return value

    @staticmethod
    def _not_suspended(group: Group) -> None:
        if group.suspended:
            raise GraphError(131207, "This group has been suspended for violating WhatsApp policies.")

    @staticmethod
    def _ok(body: dict, status: int = 200) -> Response:
        return Response(status, body)

    # -- §4.1, §4.2: groups of a number --------------------------------------------------------------------------

    def create_group(self, phone: PhoneNumber, data: dict) -> Response:
        subject = self._subject(data.get("subject"))
        description = self._description(data.get("description", ""))
        mode = data.get("join_approval_mode", "auto_approve")
        if mode not in ("auto_approve", "approval_required"):
            raise invalid("Param join_approval_mode must be 'auto_approve' or 'approval_required'.")
        owned = sum(1 for g in self.world.groups.values() if g.phone_number_id == phone.phone_number_id and g.active)
        if owned + len(self.world.pending_creates) >= MAX_GROUPS_PER_NUMBER:
            raise GraphError(131211, "This business phone number has reached the maximum number of groups.")
        request_id = self.world.new_request_id()
        pending = {"request_id": request_id, "phone_number_id": phone.phone_number_id, "subject": subject,
                   "description": description, "join_approval_mode": mode}
        self.world.pending_creates[request_id] = pending
        self.sim.group_create_requested(pending)
        return self._ok({"messaging_product": "whatsapp", "request_id": request_id})

    def list_groups(self, phone: PhoneNumber, query: dict[str, str]) -> Response:
        try:
            limit = int(query.get("limit", "25"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1024:
            raise invalid("Param limit must be an integer from 1 to 1024.")
        groups = [g for g in self.world.groups.values() if g.phone_number_id == phone.phone_number_id and g.active]
        ids = [g.group_id for g in groups]
        start, end = 0, len(groups)
        for name in ("after", "before"):
            if query.get(name):
                anchor = _uncursor(query[name]).removeprefix("groups:")
                if anchor not in ids:
                    raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart "
                                             "pagination from the first page.")
                if name == "after":
                    start = ids.index(anchor) + 1
                else:
                    end = ids.index(anchor)
                    start = max(end - limit, 0)
        page = groups[start:start + limit] if not query.get("before") else groups[start:end]
        body: dict = {"data": {"groups": [
            {"id": g.group_id, "subject": g.subject, "created_at": str(g.creation_timestamp)} for g in page
        ]}}
        if page:
            base = f"https://graph.facebook.com/{self.config.api_version}/{phone.phone_number_id}/groups?limit={limit}"
            before, after = _cursor("groups:" + page[0].group_id), _cursor("groups:" + page[-1].group_id)
            paging: dict = {"cursors": {"before": before, "after": after}}
            if ids.index(page[0].group_id) > 0:
                paging["previous"] = f"{base}&before={before}"
            if ids.index(page[-1].group_id) < len(ids) - 1:
                paging["next"] = f"{base}&after={after}"
            body["paging"] = paging
        return self._ok(body)

    # -- §4.3-4.5: one group -------------------------------------------------------------------------------------

    def get_info(self, group: Group, request: Request) -> Response:
        body: dict = {"messaging_product": "whatsapp", "id": group.group_id}
        requested = [name.strip() for name in request.query.get("fields", "").split(",") if name.strip()]
        unknown = [name for name in requested if name not in INFO_FIELDS]
        if unknown:
            raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppGroup).")
        values = {
            "subject": group.subject,
            "description": group.description,
            "creation_timestamp": group.creation_timestamp,
            "suspended": group.suspended,
            "total_participant_count": len(group.participants),
            "participants": [{"wa_id": wa_id} for wa_id in group.participants],
            "join_approval_mode": group.join_approval_mode,
        }
        if not group.description:
            del values["description"]  # Documented as present "if set during creation".
        body.update({name: values[name] for name in INFO_FIELDS if name in requested and name in values})
        return self._ok(body)

    def update_settings(self, group: Group, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data, files = self._multipart(request)
        else:
            data, files = self._json(request, product=False), {}
        if data.get("messaging_product") != "whatsapp":
            raise invalid("Param messaging_product must be 'whatsapp'.")
        if "profile_picture_file" in data:
            raise invalid("Upload the picture as the multipart form field 'file'.")
        changes: dict = {}
        if "subject" in data:
            changes["subject"] = self._subject(data["subject"])
        if "description" in data:
            changes["description"] = self._description(data["description"])
        if "file" in files:
            changes["picture"] = self._picture(files["file"])
        if not changes:
            raise invalid("Give at least one of subject, description or file.")
        self._not_suspended(group)
        self.sim.settings_requested(group, self.world.new_request_id(), changes)
        return self._ok({"success": True})

    @staticmethod
    def _multipart(request: Request) -> tuple[dict, dict]:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.body)
        if not message.is_multipart():
            raise invalid("The multipart body could not be parsed.")
        data, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not name:
                continue
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = payload
            else:
                data[name] = payload.decode(part.get_content_charset() or "utf-8")
        return data, files

    @staticmethod
    def _picture(content: bytes) -> dict:
        """Check what Meta checks at once (JPEG, 5 MB); shape problems come back in the webhook (spec §6.4)."""
        if len(content) > MAX_PICTURE_BYTES:
            raise invalid("The group picture must be at most 5 MB.")
        size = jpeg_size(content)
        if size is None:
            raise invalid("The group picture must be a JPEG image (image/jpeg).")
        width, height = size
        error = None
        if width != height:
            error = webhook_error(131209, "The uploaded image is not square.")
        elif width < 192:
            error = webhook_error(131210, "The group picture must be larger than 192 x 192 pixels.")
        return {"sha256": hashlib.sha256(content).hexdigest(), "error": error}

    def delete_group(self, group: Group, request: Request) -> Response:
        self.sim.group_delete_requested(group, self.world.new_request_id())
        return self._ok({"success": True})

    # -- §4.6-4.8: invite link -----------------------------------------------------------------------------------

    def get_invite_link(self, group: Group, request: Request) -> Response:
        self._not_suspended(group)
        if group.invite_link is None:
            raise invalid("The group's invite link was deleted; reset it to create a new one.")
        return self._ok({"messaging_product": "whatsapp", "invite_link": group.invite_link})

    def reset_invite_link(self, group: Group, request: Request) -> Response:
        self._json(request)
        self._not_suspended(group)
        group.invite_link = self.world.new_invite_link()  # Every earlier link stops working.
        return self._ok({"messaging_product": "whatsapp", "invite_link": group.invite_link})

    def delete_invite_link(self, group: Group, request: Request) -> Response:
        self._json(request)
        self._not_suspended(group)
        group.invite_link = None
        return self._ok({"messaging_product": "whatsapp", "success": "true"})

    # -- §4.9-4.13: join requests and participants ---------------------------------------------------------------

    def list_join_requests(self, group: Group, request: Request) -> Response:
        pending = group.pending_requests()
        ids = [jr.join_request_id for jr in pending]
        start = 0
        if request.query.get("after"):
            anchor = _uncursor(request.query["after"])
            if anchor not in ids:
                raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart pagination "
                                         "from the first page.")
            start = ids.index(anchor) + 1
        page = pending[start:start + 25]
        body: dict = {"data": [{"join_request_id": jr.join_request_id, "wa_id": jr.wa_id,
                                "creation_timestamp": jr.creation_timestamp} for jr in page]}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0].join_request_id),
                                          "after": _cursor(page[-1].join_request_id)}}
        return self._ok(body)

    def _join_request_ids(self, request: Request) -> list[str]:
        ids = self._json(request).get("join_requests")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise invalid("Param join_requests must be a non-empty list of join request IDs.")
        return list(dict.fromkeys(ids))

    def approve_join_requests(self, group: Group, request: Request) -> Response:
        ids = self._join_request_ids(request)
        self._not_suspended(group)
        approved, failed, people = [], [], []
        for join_request_id in ids:
            jr = group.join_requests.get(join_request_id)
            person = self.world.people.get(jr.wa_id) if jr else None
            if jr is None or jr.state != "pending" or person is None:
                error = webhook_error(131213, "The join request ID is unknown or the request was already handled "
                                              "or revoked.", message="(#131213) Group join request does not exist.")
            elif not person.accepts_terms:
                details = "Recipient has not accepted our new Terms of Service and Privacy Policy."
                error = webhook_error(131203, details, message=f"(#131203) {details}")
            elif len(group.participants) >= MAX_PARTICIPANTS:
                error = webhook_error(131204, "The request would exceed the maximum number of participants.",
                                      message="(#131204) Participant overlimit")
            else:
                jr.state = "approved"
                group.participants[person.wa_id] = person
                approved.append(join_request_id)
                people.append(person)
                continue
            failed.append({"join_request_id": join_request_id, "errors": [error]})
        if people:
            self.sim.join_requests_approved(group, people)
        return self._partial(approved, failed, key="approved_join_requests")

    def reject_join_requests(self, group: Group, request: Request) -> Response:
        ids = self._join_request_ids(request)
        self._not_suspended(group)
        rejected, failed = [], []
        for join_request_id in ids:
            jr = group.join_requests.get(join_request_id)
            if jr is None or jr.state != "pending":
                failed.append({"join_request_id": join_request_id, "errors": [webhook_error(
                    131213, "The join request ID is unknown or the request was already handled or revoked.",
                    message="(#131213) Group join request does not exist.")]})
                continue
            jr.state = "rejected"  # No webhook (spec §4.11): the user may ask again.
            rejected.append(join_request_id)
        return self._partial(rejected, failed, key="rejected_join_requests")

    @staticmethod
    def _partial(done: list[str], failed: list[dict], *, key: str) -> Response:
        """Answer 200 when all went through, 206 with 131201 when some did, the first error when none did."""
        if not failed:
            return Response(200, {"messaging_product": "whatsapp", key: done})
        if not done:
            first = failed[0]["errors"][0]
            raise GraphError(first["code"], first["error_data"]["details"], message=first["message"])
        count = len(done) + len(failed)
        return Response(206, {
            "messaging_product": "whatsapp",
            key: done,
            "failed_join_requests": failed,
            "errors": [webhook_error(131201, f"{len(failed)} of the {count} join requests could not be handled.")],
        })

    def remove_participants(self, group: Group, request: Request) -> Response:
        items = self._json(request).get("participants")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_PARTICIPANTS:
            raise invalid("Param participants must hold 1 to 8 items.")
        users = [item.get("user") if isinstance(item, dict) else None for item in items]
        if not all(isinstance(user, str) and user for user in users):
            raise invalid("Each item of participants needs a 'user' (phone number or BSUID).")
        if len({user.lstrip("+") for user in users}) != len(users):
            raise GraphError(131202, "The same user appears more than once in the participants array.")
        self._not_suspended(group)
        self.sim.removal_requested(group, self.world.new_request_id(), users)
        return self._ok({"success": True})

    def add_participants(self, group: Group, request: Request) -> Response:
        raise invalid("Businesses cannot add participants to a group; share the invite link instead.")

    # -- §4.14-4.16: messages and pins ---------------------------------------------------------------------------

    def send_message(self, phone: PhoneNumber, data: dict) -> Response:
        recipient_type = data.get("recipient_type", "individual")
        to = data.get("to")
        if recipient_type not in ("individual", "group"):
            raise invalid("Param recipient_type must be 'individual' or 'group'.")
        if not isinstance(to, str) or not to:
            raise invalid("Param to is required.")
        if (recipient_type == "group") == bool(USER_RECIPIENT.fullmatch(to)):
            raise invalid("recipient_type is 'group' but the value in 'to' is not a group ID (or vice versa).")
        kind = data.get("type", "text")
        callback = data.get("biz_opaque_callback_data")
        if callback is not None and (not isinstance(callback, str) or len(callback) > 512):
            raise invalid("Param biz_opaque_callback_data must be a string of at most 512 characters.")
        allowed = GROUP_MESSAGE_TYPES if recipient_type == "group" else INDIVIDUAL_MESSAGE_TYPES
        if kind not in allowed:
            raise GraphError(131051, f"Message type '{kind}' is not supported here.",
                             message="(#131051) Unsupported message type")
        group = None
        if recipient_type == "group":
            group = self.world.live_group(to)
            if group is None or group.phone_number_id != phone.phone_number_id:
                raise GraphError(131041, "No group with this ID exists for this business phone number, or the "
                                         "business is no longer a member of it.")
            self._not_suspended(group)
            if not group.participants:
                raise GraphError(131020, "Messages cannot be sent to a group whose only member is the business.")
        text = self._content(kind, data)
        if RATE_LIMIT_ME in text:
            raise GraphError(130429, "Cloud API message throughput for this phone number has been reached.")
        message = Message(
            wamid=self.world.new_wamid(phone.display_phone_number),
            phone_number_id=phone.phone_number_id,
            to=to if group else to.lstrip("+"),
            recipient_type=recipient_type,
            type=kind,
            created_at=now(),
            biz_opaque_callback_data=callback,
            recipients=list(group.participants) if group else [to.lstrip("+")],
        )
        if kind == "pin":
            self._pin(group, data["pin"], message.wamid)
        elif group is not None:
            group.messages.append(message.wamid)
        self.world.messages[message.wamid] = message
        fail = f"The sandbox fails messages containing {FAIL_SEND}." if FAIL_SEND in text else None
        self.sim.message_accepted(message, fail_details=fail)
        result: dict = {"id": message.wamid}
        if recipient_type == "individual" and kind == "template":
            result["message_status"] = "accepted"
        response = self._ok({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": message.to}],
                             "messages": [result]})
        if TIMEOUT_ME in text:
            response.hang = self.config.faults.timeout_seconds
        return response

    @staticmethod
    def _content(kind: str, data: dict) -> str:
        """Validate the type's object; return the text that marker words are looked for in."""
        content = data.get(kind)
        if not isinstance(content, dict):
            raise invalid(f"Param {kind} must be an object.")
        if kind == "text":
            body = content.get("body")
            if not isinstance(body, str) or not 1 <= len(body) <= 4096:
                raise invalid("Param text['body'] must be a string of 1 to 4096 characters.")
            if not isinstance(content.get("preview_url", False), bool):
                raise invalid("Param text['preview_url'] must be a boolean.")
            return body
        if kind in MEDIA_TYPES:
            if ("id" in content) == ("link" in content):
                raise invalid(f"Param {kind} needs exactly one of 'id' or 'link'.")
            caption = content.get("caption", "")
            if not isinstance(caption, str) or len(caption) > 1024:
                raise invalid(f"Param {kind}['caption'] must be a string of at most 1024 characters.")
            return caption
        if kind == "template":
            language = content.get("language")
            if not isinstance(content.get("name"), str) or not isinstance(language, dict) \
                    or not isinstance(language.get("code"), str):
                raise invalid("Param template needs 'name' and 'language': {'code'}.")
            return json.dumps(content)
        return ""  # pin: checked by _pin.

    def _pin(self, group: Group, pin: dict, pin_wamid: str) -> None:
        """Pin or unpin; at most 3 pins, a fourth replaces the oldest (spec §4.16)."""
        action, message_id = pin.get("type"), pin.get("message_id")
        if action not in ("pin", "unpin"):
            raise invalid("Param pin['type'] must be 'pin' or 'unpin'.")
        if not isinstance(message_id, str) or message_id not in group.messages:
            raise invalid("Param pin['message_id'] must be the ID of a message sent to this group.")
        at = time.time()
        active = group.active_pins(at)
        if action == "unpin":
            if not any(p.message_id == message_id for p in active):
                raise invalid("The message is not pinned.")
            group.pins = [p for p in active if p.message_id != message_id]
            return
        days = pin.get("expiration_days")
        if type(days) is not int or not 1 <= days <= 30:
            raise invalid("Param pin[expiration_days] must be between 1 and 30.")
        active = [p for p in active if p.message_id != message_id]  # Re-pinning refreshes the pin.
        active.append(Pin(message_id=message_id, pin_wamid=pin_wamid, pinned_at=at, expires_at=at + days * 86400))
        group.pins = active[-MAX_PINS:]
