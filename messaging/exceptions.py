"""Domain errors of the messaging app."""

from rest_framework import status

from config.exceptions import ApplicationError


class MessagingError(ApplicationError):
    code = "messaging_error"


class ContentInvalid(MessagingError):
    """The content of a message breaks one of Meta's rules; `field` names the offending key."""

    code = "invalid"


class MessageTypeNotSupported(MessagingError):
    """Meta does not deliver this type in groups (spec §5.1)."""

    code = "type_not_supported"


class GroupNotSendable(MessagingError):
    """The group is not active, is suspended, or has no Meta group id."""

    code = "group_not_sendable"


class IdempotencyKeyReused(MessagingError):
    """The Idempotency-Key was already used for a different message."""

    code = "idempotency_key_reused"
    http_status = status.HTTP_409_CONFLICT


class MessageNotRetryable(MessagingError):
    """Only failed messages can be retried."""

    code = "message_not_retryable"
    http_status = status.HTTP_409_CONFLICT


class PinNotAllowed(MessagingError):
    """A pin or unpin request breaks one of the rules of spec §4.16; `field` names the offending input."""

    code = "pin_not_allowed"


class PinExpirationInvalid(PinNotAllowed):
    """`expiration_days` is not an integer from 1 to 30."""

    code = "invalid"


class PinTargetInvalid(PinNotAllowed):
    """`message_id` is not the wamid of a message in that group."""

    code = "pin_target_invalid"


class PinAlreadyActive(PinNotAllowed):
    """The message is already pinned (or being pinned) in that group."""

    code = "pin_already_active"
    http_status = status.HTTP_409_CONFLICT


class PinNotActive(PinNotAllowed):
    """Only an active pin can be unpinned, once."""

    code = "pin_not_active"
    http_status = status.HTTP_409_CONFLICT
