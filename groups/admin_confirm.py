"""What every groups admin action shares: Meta's errors as staff read them, and the two-step confirmation page."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from config.exceptions import ApplicationError
from core.admin_links import admin_link
from core.meta_errors import MetaError
from groups.cloud_api import CloudAPIError, describe_error


def meta_error_text(error: dict | CloudAPIError | None) -> str:
    """Return a Meta error as staff read it: the code, its plain-language meaning and what to do."""
    meta_error = MetaError.from_value(error)
    if meta_error is None:
        return ""
    if meta_error.code is None:
        return meta_error.text or "Unknown error"
    description = describe_error(meta_error.code)
    return (f"Meta error {meta_error.code} ({description.title}): {description.meaning} {description.action} "
            f"{meta_error.text}").strip()


def meta_error_html(error: dict | None) -> str:
    """Return meta_error_text with a link to the code's entry in the error catalog (the messages admin)."""
    text = meta_error_text(error)
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


class Confirmed(str):
    """The reason given on a confirmation page (possibly empty): the action may go ahead."""


def confirm(admin_obj, request, queryset, *, action: str, title: str, warning: str, extra: str = "",
            reason: str = "optional"):
    """Render the two-step confirmation page (as delete_selected does) asking a reason.

    Returns the page, or a `Confirmed` reason once confirmed; `reason` is "required" or "optional".
    """
    given = (request.POST.get("reason") or "").strip()
    reason_error = ""
    if request.POST.get("post") == "yes":
        if given or reason != "required":
            return Confirmed(given)
        reason_error = "Give a reason: it is written to the audit log."
    context = {
        "reason_required": reason == "required",
        "reason": given,
        "reason_error": reason_error,
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "warning": warning,
        "extra": extra,
        "objects": list(queryset),
        "action": action,
        "opts": admin_obj.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/groups/confirm_action.html", context)
