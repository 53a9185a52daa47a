"""Webhook bodies shaped exactly like the spec's samples (shared/spec/webhooks/*.json)."""

from __future__ import annotations

from sandbox.state import Group, JoinRequest, Message, Person, PhoneNumber

# A group service message within the number's free tier; beyond it Meta prices it `regular`. Since 2026-10-01 a group
# utility template inside the service window is `regular` too (Corrections C6).
FREE_SERVICE = {"billable": False, "pricing_model": "PMP", "type": "free_group_customer_service",
                "category": "group_service"}
MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "group_marketing"}
INDIVIDUAL_UTILITY = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}


def envelope(phone: PhoneNumber, field: str, value: dict) -> dict:
    """Wrap `value` (its `groups`, `statuses`, ... keys) in the common envelope of spec §6.1."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": phone.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": phone.display_phone_number,
                                "phone_number_id": phone.phone_number_id,
                            },
                            **value,
                        },
                        "field": field,
                    }
                ],
            }
        ],
    }


def groups_body(phone: PhoneNumber, field: str, *items: dict) -> dict:
    return envelope(phone, field, {"groups": list(items)})


# -- group_lifecycle_update --------------------------------------------------------------------------------------


def create_succeeded(group: Group, ts: int) -> dict:
    return {"timestamp": str(ts), "group_id": group.group_id, "type": "group_create", "request_id": group.request_id,
            "subject": group.subject, "invite_link": group.invite_link, "join_approval_mode": group.join_approval_mode}


def create_failed(pending: dict, ts: int, error: dict) -> dict:
    return {"timestamp": str(ts), "type": "group_create", "subject": pending["subject"],
            "description": pending["description"], "request_id": pending["request_id"], "errors": [error]}


def delete_result(group: Group, request_id: str, ts: int, error: dict | None = None) -> dict:
    item = {"timestamp": str(ts), "group_id": group.group_id, "type": "group_delete", "request_id": request_id}
    if error is not None:
        item["errors"] = [error]
    return item


# -- group_participants_update -----------------------------------------------------------------------------------


def joined_via_link(group: Group, people: list[Person], ts: int) -> dict:
    return {"timestamp": str(ts), "group_id": group.group_id, "type": "group_participants_add",
            "reason": "invite_link", "added_participants": [p.identity() for p in people]}


def join_request_approved(group: Group, people: list[Person], ts: int) -> dict:
    # Items echo `input`: the only thing that tells an approval from a plain join (spec §6.3).
    return {"timestamp": str(ts), "group_id": group.group_id, "type": "group_participants_add",
            "reason": "invite_link", "added_participants": [{"input": p.wa_id, "wa_id": p.wa_id} for p in people]}


def join_request_event(group: Group, request: JoinRequest, kind: str, ts: int) -> dict:
    """Return a `group_join_request_created` or `group_join_request_revoked` item."""
    return {"timestamp": str(ts), "group_id": group.group_id, "type": kind,
            "join_request_id": request.join_request_id, "wa_id": request.wa_id}


def participants_removed(group: Group, request_id: str, ts: int, *, removed: list[str],
                         failed: list[tuple[str, dict]], error: dict | None) -> dict:
    """Return a business removal: succeeded, partially failed (per-item errors) or failed (none removed)."""
    item: dict = {"timestamp": str(ts), "group_id": group.group_id, "type": "group_participants_remove",
                  "request_id": request_id, "initiated_by": "business"}
    if removed:
        item["removed_participants"] = [{"input": value} for value in removed]
        if failed:
            item["failed_participants"] = [{"input": value, "errors": [err]} for value, err in failed]
    elif failed:
        item["failed_participants"] = [{"input": value} for value, _err in failed]
    if error is not None:
        item["errors"] = [error]
    return item


def participant_left(group: Group, person: Person, ts: int, *, request_id: str | None = None) -> dict:
    """Return a leave; with a request_id, as the BSUID page shows it: a request_id and no initiated_by (C2)."""
    item = {"timestamp": str(ts), "group_id": group.group_id, "type": "group_participants_remove",
            "initiated_by": "participant", "removed_participants": [person.identity()]}
    if request_id is not None:
        del item["initiated_by"]
        item["request_id"] = request_id
    return item


# -- group_settings_update and group_status_update ---------------------------------------------------------------


def settings_result(group: Group, request_id: str, ts: int, settings: dict, error: dict | None) -> dict:
    """Return the outcome item; `settings` maps profile_picture/group_subject/group_description to their objects."""
    item = {"timestamp": str(ts), "group_id": group.group_id, "type": "group_settings_update",
            "request_id": request_id, **settings}
    if error is not None:
        item["errors"] = [error]
    return item


def status_change(group: Group, kind: str, ts: int) -> dict:
    return {"timestamp": str(ts), "type": kind, "group_id": group.group_id}


# -- messages ----------------------------------------------------------------------------------------------------


def status(message: Message, state: str, ts: int, *, participant: str | None = None, pricing: dict | None = None,
           errors: list[dict] | None = None, person: Person | None = None) -> dict:
    """Return one `statuses[]` object: group-level (sent, failed) or per participant (delivered, read).

    The participant is named by their wa_id (`participant`), or as `person` is named in the BSUID era (spec §5.7).
    """
    item: dict = {"id": message.wamid, "status": state, "timestamp": str(ts), "recipient_id": message.to}
    if message.recipient_type == "group":
        item["recipient_type"] = "group"
    if participant is not None or person is not None:
        named = person.identity() if person is not None else {"wa_id": participant}
        for key, status_key in (("wa_id", "recipient_participant_id"), ("user_id", "recipient_participant_user_id"),
                                ("parent_user_id", "recipient_participant_parent_user_id")):
            if key in named:
                item[status_key] = named[key]
    if message.biz_opaque_callback_data is not None:
        item["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    if pricing is not None:
        item["pricing"] = dict(pricing)
    if errors is not None:
        item["errors"] = errors
    return item


def statuses_body(phone: PhoneNumber, statuses: list[dict], people: list[Person] = ()) -> dict:
    """Wrap statuses; BSUID-era delivered/read name their people in a top-level `contacts[]` too (C4)."""
    value: dict = {"statuses": statuses}
    contacts = [_contact(person) for person in people if person.user_id]
    if contacts:
        value = {"contacts": contacts, **value}
    return envelope(phone, "messages", value)


def _contact(person: Person) -> dict:
    named = person.identity()
    profile = {"name": person.name, **({"username": person.username} if person.username else {})}
    return {"profile": profile, **{key: value for key, value in named.items() if key != "username"}}


def inbound_text(phone: PhoneNumber, group: Group, person: Person, wamid: str, text: str, ts: int, *,
                 plus: bool = False) -> dict:
    """Return an inbound text; `plus` writes `from` as Meta's reference example does, `+16505551234` (C3)."""
    message: dict = {"group_id": group.group_id, "id": wamid, "timestamp": str(ts), "text": {"body": text},
                     "type": "text"}
    if not person.phone_hidden:
        message["from"] = f"+{person.wa_id}" if plus else person.wa_id
    if person.user_id:
        message["from_user_id"] = person.user_id
    return envelope(phone, "messages", {"contacts": [_contact(person)], "messages": [message]})
