"""Message calls (spec §4.14-4.16): send to a group or a user, pin and unpin."""

from __future__ import annotations

import time

from sandbox.config import SandboxConfig
from sandbox.errors import GraphError, invalid
from sandbox.graph.common import (
    GROUP_MESSAGE_TYPES,
    INDIVIDUAL_MESSAGE_TYPES,
    RATE_LIMIT_ME,
    TIMEOUT_ME,
    USER_RECIPIENT,
    Response,
    message_text,
    not_suspended,
    ok,
)
from sandbox.simulation import FAIL_SEND, Simulator
from sandbox.state import MAX_PINS, Group, Message, PhoneNumber, Pin, World, now


class MessageCalls:
    """The handler of POST /{phone-number-id}/messages; GraphApi routes to it with the world locked."""

    config: SandboxConfig
    world: World
    sim: Simulator

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
            not_suspended(group)
            if not group.participants:
                raise GraphError(131020, "Messages cannot be sent to a group whose only member is the business.")
        text = message_text(kind, data)
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
        response = ok({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": message.to}],
                             "messages": [result]})
        if TIMEOUT_ME in text:
            response.hang = self.config.faults.timeout_seconds
        return response


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
