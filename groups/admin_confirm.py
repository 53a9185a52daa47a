"""What every groups admin action shares: Meta's errors as staff read them (the confirmation page is core's)."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html

from config.exceptions import ApplicationError
from core.admin_links import admin_link
from core.meta_errors import MetaError
from groups.cloud_api import CloudAPIError, RetryClass, describe_error


def meta_error_text(error: dict | CloudAPIError | None, *, final_advice: str = "") -> str:
    """Return a Meta error as staff read it: the code, its plain-language meaning and what to do.

    `final_advice` is for an error that ended something for good (a create that failed, an operation that failed):
    it replaces the catalog's "Groupdesk retries later", which is untrue there, and is said after any other advice.
    """
    meta_error = MetaError.from_value(error)
    if meta_error is None:
        return ""
    if meta_error.code is None:
        return " ".join(part for part in (meta_error.text or "Unknown error", final_advice) if part)
    description = describe_error(meta_error.code)
    action = description.action
    if final_advice:
        action = final_advice if description.retry_class == RetryClass.BACK_OFF else f"{action} {final_advice}"
    return (f"Meta error {meta_error.code} ({description.title}): {description.meaning} {action} "
            f"{meta_error.text}").strip()


def meta_error_html(error: dict | None, *, final_advice: str = "") -> str:
    """Return meta_error_text with a link to the code's entry in the error catalog (the messages admin)."""
    text = meta_error_text(error, final_advice=final_advice)
    meta_error = MetaError.from_value(error)
    if not text or meta_error is None or meta_error.code_text == "":
        return text
    url = admin_link("error_catalog")
    if url is None:  # No installed app serves the catalog.
        return text
    return format_html('{} <a href="{}#code-{}">All error codes</a>', text, url, meta_error.code_text)


def report_error(admin_obj: admin.ModelAdmin, request: HttpRequest, obj, exc: ApplicationError) -> None:
    text = meta_error_text(exc) if isinstance(exc, CloudAPIError) else exc.message
    admin_obj.message_user(request, f"{obj}: {text}", messages.ERROR)


CREATE_FAILED_ADVICE = ("Groupdesk does not retry a create: select the group in the list and choose “Try again: "
                        "create these groups anew”.")
OPERATION_FAILED_ADVICE = "Groupdesk does not retry this operation: ask for it again if it is still needed."


def group_last_error_html(group) -> str:
    """Return the group's last error with advice that fits: a failed create is final and is never retried."""
    final = CREATE_FAILED_ADVICE if group.state == group.State.CREATE_FAILED else ""
    return meta_error_html(group.last_error, final_advice=final)


def operation_error_html(operation, error: dict) -> str:
    """Return one error of a group operation, with advice that fits whether the operation has ended."""
    failed = operation.state == operation.State.FAILED
    create = operation.kind == operation.Kind.CREATE
    return meta_error_html(error, final_advice=(CREATE_FAILED_ADVICE if create else OPERATION_FAILED_ADVICE)
                           if failed else "")
