"""What every Graph call shares: request and response, limits, cursors, body parsing and checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP

from sandbox.errors import GraphError, invalid, webhook_error
from sandbox.jpeg import jpeg_size
from sandbox.state import Group

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


def cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def uncursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart pagination "
                                 "from the first page.") from exc


def parse_json(request: Request, *, product: bool = True) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object.")
    if product and data.get("messaging_product") != "whatsapp":
        raise invalid("Param messaging_product must be 'whatsapp'.")
    return data

def check_subject(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 128:
        raise invalid("Param subject must be a string of 1 to 128 characters.")
    return value.strip()

def check_description(value: object) -> str:
    if not isinstance(value, str) or len(value) > 2048:
        raise invalid("Param description must be a string of at most 2048 characters.")
    return value

def not_suspended(group: Group) -> None:
    if group.suspended:
        raise GraphError(131207, "This group has been suspended for violating WhatsApp policies.")

def ok(body: dict, status: int = 200) -> Response:
    return Response(status, body)


def parse_multipart(request: Request) -> tuple[dict, dict]:
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

def check_picture(content: bytes) -> dict:
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


def message_text(kind: str, data: dict) -> str:
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

