"""What every groups admin action shares: Meta's errors as staff read them (the confirmation page is core's)."""

from django.contrib import admin, messages
from django.http import HttpRequest
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

