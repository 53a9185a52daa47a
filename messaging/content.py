"""The registry of outbound message types: how each one's content is checked before Meta sees it.

Each type validates Meta's type object (`{"body": ...}` for text) and returns it normalised. Only
`composable` types may be written by staff or REST clients (spec §5.1 lists what groups accept);
the pins service registers `pin` to use the same send pipeline (see `register_message_type`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from messaging.exceptions import ContentInvalid, MessageTypeNotSupported

TEXT_BODY_MAX_LENGTH = 4096
CAPTION_MAX_LENGTH = 1024
TEMPLATE_NAME_MAX_LENGTH = 512
FILENAME_MAX_LENGTH = 240

# Types people often try that Meta does not deliver in groups (spec §5.1): named in the 400.
UNSUPPORTED_IN_GROUPS = (
    "interactive", "reaction", "location", "contacts", "sticker", "order", "product", "product_list",
    "catalog_message", "flow", "button", "list", "poll", "edit", "revoke", "delete",
)


@dataclass(frozen=True)
class MessageType:
    """One outbound type: its content validator, whether people may compose it, and a status hook."""

    name: str
    validate: Callable[[Any], dict]  # Raises ContentInvalid with `field` "<type>.<key>".
    composable: bool = True
    # Called inside the transaction of every status change of a message of this type, with the
    # locked message and the change row; the pins service uses it to follow its pin's state.
    on_status_change: Callable[[Any, Any], None] | None = None


def _invalid(type_name: str, key: str, message: str) -> ContentInvalid:
    return ContentInvalid(message, field=f"{type_name}.{key}" if key else type_name)


def _require_object(type_name: str, raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise ContentInvalid(f"A {type_name} message needs a `{type_name}` object.", field=type_name)
    return raw


def _reject_unknown_keys(type_name: str, raw: dict, allowed: set[str]) -> None:
    for key in raw:
        if key not in allowed:
            raise _invalid(type_name, key, f"Unknown key `{key}` for a {type_name} message.")


def _string(type_name: str, raw: dict, key: str, *, max_length: int, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise _invalid(type_name, key, "This field is required.")
        return None
    if not isinstance(value, str):
        raise _invalid(type_name, key, "Must be a string.")
    if required and not value.strip():
        raise _invalid(type_name, key, "Must not be blank.")
    if len(value) > max_length:
        raise _invalid(type_name, key, f"Must be at most {max_length} characters (got {len(value)}).")
    return value


def validate_text(raw: Any) -> dict:
    """Return `{"body", "preview_url"}`: a body of 1 to 4096 characters and an optional boolean."""
    raw = _require_object("text", raw)
    _reject_unknown_keys("text", raw, {"body", "preview_url"})
    body = _string("text", raw, "body", max_length=TEXT_BODY_MAX_LENGTH, required=True)
    preview_url = raw.get("preview_url", False)
    if not isinstance(preview_url, bool):
        raise _invalid("text", "preview_url", "Must be true or false.")
    return {"preview_url": preview_url, "body": body}


def _media_validator(type_name: str, *, caption: bool, filename: bool = False) -> Callable[[Any], dict]:
    allowed = {"id", "link"} | ({"caption"} if caption else set()) | ({"filename"} if filename else set())

    def validate(raw: Any) -> dict:
        raw = _require_object(type_name, raw)
        if "caption" in raw and not caption:
            raise _invalid(type_name, "caption", f"Meta does not allow a caption on {type_name} messages.")
        _reject_unknown_keys(type_name, raw, allowed)
        media_id = raw.get("id")
        if isinstance(media_id, int) and not isinstance(media_id, bool):
            media_id = str(media_id)
        if media_id is not None and (not isinstance(media_id, str) or not media_id.strip()):
            raise _invalid(type_name, "id", "Must be a media ID string.")
        link = _string(type_name, raw, "link", max_length=2000)
        if bool(media_id) == bool(link):
            raise _invalid(type_name, "link" if link else "id", "Give exactly one of `link` or `id`.")
        if link:
            parts = urlsplit(link)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                raise _invalid(type_name, "link", "Must be an http(s) URL.")
        content: dict[str, Any] = {"id": media_id.strip()} if media_id else {"link": link}
        if caption and (text := _string(type_name, raw, "caption", max_length=CAPTION_MAX_LENGTH)):
            content["caption"] = text
        if filename and (name := _string(type_name, raw, "filename", max_length=FILENAME_MAX_LENGTH)):
            content["filename"] = name
        return content

    return validate


def validate_template(raw: Any) -> dict:
    """Return `{"name", "language": {"code"}, "components"?}` for an approved template."""
    raw = _require_object("template", raw)
    _reject_unknown_keys("template", raw, {"name", "language", "components"})
    name = _string("template", raw, "name", max_length=TEMPLATE_NAME_MAX_LENGTH, required=True)
    language = raw.get("language")
    if isinstance(language, str):
        language = {"code": language}  # A bare code is accepted and sent as Meta's object.
    if not isinstance(language, dict) or not isinstance(language.get("code"), str) or not language["code"].strip():
        raise _invalid("template", "language", "Give the template's language as {\"code\": \"en_US\"}.")
    unknown = set(language) - {"code", "policy"}
    if unknown:
        raise _invalid("template", "language", f"Unknown key `{sorted(unknown)[0]}` in language.")
    content: dict[str, Any] = {"name": name, "language": dict(language)}
    components = raw.get("components")
    if components is not None:
        if not isinstance(components, list):
            raise _invalid("template", "components", "Must be a list of component objects.")
        for index, component in enumerate(components):
            if not isinstance(component, dict) or not isinstance(component.get("type"), str):
                raise _invalid("template", f"components[{index}]", "Each component is an object with a `type`.")
            parameters = component.get("parameters", [])
            if not isinstance(parameters, list) or not all(
                isinstance(p, dict) and isinstance(p.get("type"), str) for p in parameters
            ):
                raise _invalid(
                    "template", f"components[{index}].parameters", "Must be a list of objects with a `type`."
                )
        content["components"] = components
    return content


MESSAGE_TYPES: dict[str, MessageType] = {
    "text": MessageType("text", validate_text),
    "image": MessageType("image", _media_validator("image", caption=True)),
    "video": MessageType("video", _media_validator("video", caption=True)),
    "audio": MessageType("audio", _media_validator("audio", caption=False)),
    "document": MessageType("document", _media_validator("document", caption=True, filename=True)),
    "template": MessageType("template", validate_template),
}

COMPOSABLE_TYPES = ("text", "image", "video", "audio", "document", "template")


def register_message_type(message_type: MessageType) -> None:
    """Add or replace an outbound type (the pins service registers `pin` with composable=False)."""
    MESSAGE_TYPES[message_type.name] = message_type


def message_type_get(name: str, *, composing: bool) -> MessageType:
    """Return the registered type, or raise MessageTypeNotSupported naming `type`."""
    message_type = MESSAGE_TYPES.get(name)
    if message_type is None or (composing and not message_type.composable):
        if name in UNSUPPORTED_IN_GROUPS or message_type is not None:
            reason = f"Message type `{name}` is not supported in groups."
        else:
            reason = f"Unknown message type `{name}`; it is not supported in groups."
        allowed = ", ".join(COMPOSABLE_TYPES)
        raise MessageTypeNotSupported(f"{reason} Use one of: {allowed}.", field="type")
    return message_type


def content_validate(*, type: str, content: Any, composing: bool = True) -> dict:
    """Return the normalised content of a message of `type`; raise ContentInvalid naming the field."""
    return message_type_get(type, composing=composing).validate(content)


def content_text(*, type: str, content: dict | None, text: str = "") -> str:
    """Return the words of a message for a list: its text or caption, else what it is ("Image", "Template hello")."""
    content = content if isinstance(content, dict) else {}
    words = text or content.get("body") or content.get("caption") or ""
    if words:
        return words
    if type == "template" and content.get("name"):
        return f"Template {content['name']}"
    return f"({type or 'message'}{', ' + content['filename'] if content.get('filename') else ''})"
