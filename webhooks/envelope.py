"""Walk a webhook body: every entry, change and item, with the context each handler needs."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from webhooks.registry import ItemContext

# Under `messages`, the item lists and the kind each one's items have.
MESSAGE_LISTS = ("statuses", "messages", "errors")


@dataclass(frozen=True)
class EnvelopeItem:
    """One item to dispatch, or a malformed part of the envelope that cannot be (error set)."""

    context: ItemContext
    item: Any
    error: str = ""


def iter_items(payload: Any, *, event_id: int) -> Iterator[EnvelopeItem]:
    """Yield every item of every change of every entry, in body order."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        yield _malformed(event_id, "", "the body has no entry list")
        return
    for e, entry in enumerate(payload["entry"]):
        entry_path = f"entry[{e}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
            yield _malformed(event_id, entry_path, "entry has no changes list")
            continue
        waba_id = str(entry.get("id") or "")
        for c, change in enumerate(entry["changes"]):
            change_path = f"{entry_path}.changes[{c}]"
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                yield _malformed(event_id, change_path, "change has no value object")
                continue
            yield from _change_items(change, change_path, waba_id=waba_id, event_id=event_id)


def _change_items(change: dict, path: str, *, waba_id: str, event_id: int) -> Iterator[EnvelopeItem]:
    field = str(change.get("field") or "")
    value = change["value"]
    metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}

    def context(kind: str, item_path: str) -> ItemContext:
        return ItemContext(
            event_id=event_id,
            field=field,
            kind=kind,
            path=item_path,
            waba_id=waba_id,
            phone_number_id=str(metadata.get("phone_number_id") or ""),
            display_phone_number=str(metadata.get("display_phone_number") or ""),
            value=value,
        )

    lists = [name for name in ("groups", *MESSAGE_LISTS) if isinstance(value.get(name), list)]
    if not lists:
        # A field Groupdesk has no item list for (e.g. account updates): the value is the item.
        yield EnvelopeItem(context(kind="", item_path=path), value)
        return
    for name in lists:
        for i, item in enumerate(value[name]):
            # Group fields route on each item's `type`; `messages` on the list it came from.
            kind = str(item.get("type") or "") if name == "groups" and isinstance(item, dict) else name
            yield EnvelopeItem(context(kind=kind, item_path=f"{path}.{name}[{i}]"), item)


def _malformed(event_id: int, path: str, error: str) -> EnvelopeItem:
    return EnvelopeItem(ItemContext(event_id=event_id, field="", kind="", path=path or "body"), None, error=error)
