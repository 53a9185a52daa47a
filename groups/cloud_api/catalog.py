"""The one table of Meta's error codes: class raised, retry class, plain meaning, what staff should do.

Sources: spec §9.3 (Groups codes), §9.5 (other Cloud API codes) and §8 (retry classes). A code not
listed here gets a retry class from the HTTP status (see `errors.error_from_response`).
"""

from __future__ import annotations

from dataclasses import dataclass

from groups.cloud_api.errors import (
    AccountRestricted,
    BadGroup,
    CloudAPIAuthError,
    CloudAPIError,
    CloudAPIRateLimited,
    CloudAPIServerError,
    ErrorDescription,
    GroupNotFound,
    GroupSuspended,
    InvalidCursor,
    InvalidGroupPicture,
    InvalidRequest,
    JoinRequestNotFound,
    MessageNotDeliverable,
    ParticipantError,
    RetryClass,
    TemplateError,
)

BACK_OFF = RetryClass.BACK_OFF
FIX = RetryClass.FIX_REQUEST
REAUTH = RetryClass.REAUTHENTICATE


@dataclass(frozen=True)
class CatalogEntry:
    """One row: the codes it covers and how Groupdesk treats them."""

    codes: tuple[int, ...] | range
    error_class: type[CloudAPIError]
    retry_class: RetryClass
    title: str
    meaning: str
    action: str

    def describe(self, code: int | None = None) -> ErrorDescription:
        """Return this row as an ErrorDescription, for `code` or for the whole row."""
        if isinstance(self.codes, range):
            label = f"{self.codes.start}-{self.codes.stop - 1}"
        else:
            label = " / ".join(str(c) for c in self.codes)
        return ErrorDescription(
            code=code if code is not None else self.codes[0],
            title=self.title,
            meaning=self.meaning,
            action=self.action,
            retry_class=self.retry_class,
            codes=label,
            error_class=self.error_class.__name__,
        )


def _row(codes, error_class, retry_class, title, meaning, action) -> CatalogEntry:
    codes = codes if isinstance(codes, range) else tuple(codes) if isinstance(codes, tuple) else (codes,)
    return CatalogEntry(codes, error_class, retry_class, title, meaning, action)


# fmt: off
ERROR_TABLE: tuple[CatalogEntry, ...] = (
    # --- Groups API (spec §9.3, plus 130501 and 131203) ---
    _row(131020, BadGroup, FIX, "Bad group",
         "Meta found no member but the business in the group when it tried to deliver the message, whatever "
         "Groupdesk's member list showed then.",
         "Sync the group from Meta to see who is in it now: if no one else is, share the invite link and wait "
         "until someone joins; then send again."),
    _row(131041, GroupNotFound, FIX, "Group unknown",
         "The group does not exist, or the business is no longer a member of it.",
         "Check the group ID; if the group was deleted, mark it deleted here."),
    _row(131059, InvalidCursor, FIX, "Invalid cursor",
         "The paging cursor expired or is corrupt.",
         "Restart the listing from the first page."),
    _row(131201, ParticipantError, FIX, "Request partially succeeded",
         "Some of the per-participant operations in the request failed.",
         "Look at the failed items, fix each cause, and repeat only those."),
    _row(131202, ParticipantError, FIX, "Duplicate participant",
         "The same participant appears more than once in the request.",
         "Remove the duplicate entries and send the request again."),
    _row(131203, ParticipantError, FIX, "Unable to add participant to group",
         "The user has not accepted WhatsApp's latest Terms of Service.",
         "Ask the user to update WhatsApp and accept the terms, then approve again."),
    _row(131204, ParticipantError, FIX, "Participant overlimit",
         "The group would exceed its participant limit (8, not counting the business).",
         "Remove participants or use another group before adding more."),
    _row(131207, GroupSuspended, FIX, "Group suspended",
         "WhatsApp suspended the group for violating its policies.",
         "Do not manage or message the group; wait for the suspension to be cleared."),
    _row(131208, CloudAPIRateLimited, BACK_OFF, "Group rate limit hit",
         "Too many group operations were made from this phone number in a short time.",
         "Nothing to do: Groupdesk retries later; slow down bulk group changes."),
    _row(131209, InvalidGroupPicture, FIX, "Invalid group picture aspect ratio",
         "The group picture is not square.",
         "Upload a square JPEG (width equal to height)."),
    _row(131210, InvalidGroupPicture, FIX, "Group picture too small",
         "The group picture must be larger than 192 x 192 pixels.",
         "Upload a larger square JPEG (at least 192 x 192 pixels)."),
    _row(131211, AccountRestricted, FIX, "Group create limit reached",
         "This phone number already owns the maximum number of groups (10,000).",
         "Delete groups no longer needed, or create the group on another number."),
    _row(131212, ParticipantError, FIX, "Participant not in group",
         "The user given is not a participant of the group.",
         "Refresh the participant list; the user may have left or been removed already."),
    _row(131213, JoinRequestNotFound, FIX, "Join request does not exist",
         "The join request is unknown, was already handled, or was withdrawn.",
         "Refresh the join requests; nothing else is needed."),
    _row(131214, AccountRestricted, FIX, "Group creation temporarily disabled",
         "Too many marketing messages were sent inside customer-service windows in the last 7 days.",
         "Reduce such marketing messages and try creating groups again in a few days."),
    _row(131215, AccountRestricted, FIX, "Number not eligible for Groups API",
         "This phone number cannot use the Groups API (needs an Official Business Account on Cloud API).",
         "Check the number's eligibility in WhatsApp Manager, or use an eligible number."),
    _row(130501, MessageNotDeliverable, FIX, "Unsupported message type",
         "A participant sent content the Cloud API does not support in groups.",
         "Ask the participant to send it as text, image, video, audio or document."),
    # --- Rate limits (spec §8, §9.5) ---
    _row(130429, CloudAPIRateLimited, BACK_OFF, "Throughput limit reached",
         "The phone number sent more messages per second than its throughput allows.",
         "Nothing to do: Groupdesk retries later; spread large sends over time."),
    _row(131056, CloudAPIRateLimited, BACK_OFF, "Pair rate limit hit",
         "Too many messages went from this number to the same recipient in a short time.",
         "Nothing to do: Groupdesk retries later; send to this group less often."),
    _row(4, CloudAPIRateLimited, BACK_OFF, "App call-rate limit",
         "The app made too many API calls.",
         "Nothing to do: Groupdesk retries later; reduce bulk operations if it persists."),
    _row(80007, CloudAPIRateLimited, BACK_OFF, "WABA rate limit",
         "The WhatsApp Business Account hit its API rate limit.",
         "Nothing to do: Groupdesk retries later; reduce bulk operations if it persists."),
    _row(131048, AccountRestricted, FIX, "Spam rate limit hit",
         "Sending is restricted because many earlier messages were blocked or reported as spam.",
         "Check the number's quality rating in WhatsApp Manager; do not resend blindly."),
    # --- Meta-side temporary failures (spec §8 "back off") ---
    _row(1, CloudAPIServerError, BACK_OFF, "Unknown API error",
         "Meta reported an unknown error or could not process the request.",
         "Nothing to do: Groupdesk retries later; if it persists, contact Meta with the fbtrace_id."),
    _row(2, CloudAPIServerError, BACK_OFF, "Service temporarily unavailable",
         "Meta's service is temporarily unavailable.",
         "Nothing to do: Groupdesk retries later; check Meta's status page if it persists."),
    _row(131000, CloudAPIServerError, BACK_OFF, "Unknown failure",
         "Meta failed to process the request for an unknown reason.",
         "Nothing to do: Groupdesk retries later; if it persists, contact Meta with the fbtrace_id."),
    _row(131016, CloudAPIServerError, BACK_OFF, "Service unavailable",
         "A Meta service is temporarily overloaded or unavailable.",
         "Nothing to do: Groupdesk retries later."),
    _row(131057, CloudAPIServerError, BACK_OFF, "Account in maintenance mode",
         "The business account is in maintenance, for example during a throughput upgrade.",
         "Nothing to do: Groupdesk retries in a few minutes."),
    _row(133004, CloudAPIServerError, BACK_OFF, "Server temporarily unavailable",
         "Meta's server is temporarily unavailable.",
         "Nothing to do: Groupdesk retries later."),
    # --- Authentication and permissions (spec §8 "re-authenticate") ---
    _row(0, CloudAPIAuthError, REAUTH, "Authentication failed",
         "The access token is expired, revoked or invalid.",
         "An administrator must set a valid system-user token (WHATSAPP_ACCESS_TOKEN)."),
    _row(190, CloudAPIAuthError, REAUTH, "Access token expired",
         "The access token has expired.",
         "An administrator must generate a new system-user token and set WHATSAPP_ACCESS_TOKEN."),
    _row(3, CloudAPIAuthError, REAUTH, "Capability or permission problem",
         "The app lacks the capability or permission for this call.",
         "An administrator must check the app's permissions and WhatsApp product setup."),
    _row(10, CloudAPIAuthError, REAUTH, "Permission denied",
         "The permission needed for this call was not granted or was removed.",
         "Grant whatsapp_business_messaging and whatsapp_business_management to the token."),
    _row(range(200, 300), CloudAPIAuthError, REAUTH, "Permission denied",
         "The permission needed for this call was not granted or was removed.",
         "Grant whatsapp_business_messaging and whatsapp_business_management to the token."),
    _row(131005, CloudAPIAuthError, REAUTH, "Access denied",
         "The token may not act on this phone number or account.",
         "An administrator must check the token's assets and permissions in Business Manager."),
    # --- Account-level blocks (spec §9.5) ---
    _row(368, AccountRestricted, FIX, "Temporarily blocked for policy violations",
         "The WhatsApp Business Account is temporarily blocked for violating policies.",
         "Check the account's status in WhatsApp Manager; wait for the block to end."),
    _row(131031, AccountRestricted, FIX, "Account locked",
         "The business account is locked.",
         "Check WhatsApp Manager and follow Meta's instructions to unlock it."),
    _row(131042, AccountRestricted, FIX, "Payment problem",
         "There is a billing or payment problem on the account.",
         "Fix the payment method in WhatsApp Manager, then send again."),
    # --- Invalid requests (spec §8 "fix the request", §9.4) ---
    _row(100, InvalidRequest, FIX, "Invalid parameter",
         "A parameter is invalid, missing or misspelled (also the likely answer to a recipient type mismatch).",
         "Correct the value named in the details and send again."),
    _row(131002, InvalidRequest, FIX, "Invalid recipient type",
         "The recipient type does not match the 'to' value.",
         "Send to groups only with recipient type 'group' and a stored group ID."),
    _row(131008, InvalidRequest, FIX, "Required parameter missing",
         "A required parameter is missing from the request.",
         "Add the missing value named in the details and send again."),
    _row(131009, InvalidRequest, FIX, "Parameter value not valid",
         "A parameter value is not valid.",
         "Correct the value named in the details and send again."),
    _row(135000, InvalidRequest, FIX, "Generic user error",
         "Meta could not process the request because of a problem in it.",
         "Check the message content; contact Meta with the fbtrace_id if it looks right."),
    # --- Message content and recipient (spec §9.5) ---
    _row(131026, MessageNotDeliverable, FIX, "Message undeliverable",
         "The message could not be delivered to the recipient.",
         "Check that the recipients use an up-to-date WhatsApp; send something else later."),
    _row(131047, MessageNotDeliverable, FIX, "Re-engagement message",
         "More than 24 hours passed since the last reply, so only a template may be sent.",
         "Send an approved template instead."),
    _row(131049, MessageNotDeliverable, FIX, "Not delivered for ecosystem engagement",
         "Meta chose not to deliver this marketing message to keep engagement healthy.",
         "Do not resend at once; try later or with different content."),
    _row(131050, MessageNotDeliverable, FIX, "User stopped marketing messages",
         "The user chose not to receive marketing messages from this business.",
         "Do not send marketing messages to this user."),
    _row(131051, MessageNotDeliverable, FIX, "Unsupported message type",
         "This message type is not supported.",
         "Use text, image, video, audio, document or template in groups."),
    _row((131052, 131053), MessageNotDeliverable, FIX, "Media download or upload error",
         "The media could not be downloaded or uploaded.",
         "Check that the media link or ID is valid and the file is a supported type and size."),
    _row(131060, MessageNotDeliverable, FIX, "Inbound message unavailable",
         "The user's message is not available to the business.",
         "Ask the participant to send it again."),
    # --- Templates (spec §9.5) ---
    _row(132000, TemplateError, FIX, "Template parameter count mismatch",
         "The number of template parameters does not match the template.",
         "Give exactly the parameters the template defines."),
    _row(132001, TemplateError, FIX, "Template does not exist",
         "The template does not exist, or is not approved in that language.",
         "Check the template name and language in WhatsApp Manager."),
    _row(132005, TemplateError, FIX, "Translated text too long",
         "The template text with its parameters is too long.",
         "Shorten the parameter values."),
    _row(132007, TemplateError, FIX, "Template format policy violated",
         "The template content breaks WhatsApp's format or character policy.",
         "Edit the parameter values (no forbidden characters, line breaks or URLs where not allowed)."),
    _row(132012, TemplateError, FIX, "Template parameter format mismatch",
         "A template parameter has the wrong format.",
         "Give each parameter in the format the template expects."),
    _row((132015, 132016), TemplateError, FIX, "Template paused or disabled",
         "The template was paused or disabled because of low quality.",
         "Use another template, or fix this one in WhatsApp Manager."),
)
# fmt: on


def _index(table: tuple[CatalogEntry, ...]) -> dict[int, CatalogEntry]:
    by_code: dict[int, CatalogEntry] = {}
    for entry in table:
        for code in entry.codes:
            if code in by_code:
                raise ValueError(f"Meta error code {code} is listed twice")
            by_code[code] = entry
    return by_code


_BY_CODE = _index(ERROR_TABLE)


def entry_for(code: int | None) -> CatalogEntry | None:
    """Return the table row for a Meta error code, or None when unknown."""
    return None if code is None else _BY_CODE.get(code)
