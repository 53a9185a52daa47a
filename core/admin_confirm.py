"""The one confirmation page of the admin: every action that calls Meta or changes what others see asks here first.

The two-step POST of Django's delete_selected: the first POST renders the page and changes nothing; the page posts
back the same action with `post=yes`, and only then does the action run. One template
(templates/admin/confirm_action.html) says what will happen, what cannot be undone, and asks a reason where the
audit log records one, and the action's own fields (e.g. the days of a pin) where it has some.
"""

from collections.abc import Callable, Sequence

from django import forms
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

MAX_LISTED = 50  # Objects named on the page; the rest are counted.


class Confirmed(str):
    """The reason given on a confirmation page (possibly empty): the action may go ahead.

    `form` is the action's own form, validated, when it has one.
    """

    form: forms.Form | None = None


def these(objects: Sequence, noun: str) -> str:
    """Return "this group" or "these 3 groups": a confirmation's title says how many it acts on."""
    count = len(objects)
    return f"this {noun}" if count == 1 else f"these {count} {noun}s"


def counted(count: int, noun: str) -> str:
    """Return "1 join request" or "3 join requests": what an action's message says it did."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def confirm(admin_obj, request: HttpRequest, objects, *, action: str | None, title: str, warning: str,
            irreversible: str = "", reason: str = "optional", form_class: type[forms.Form] | None = None,
            details_template: str = "", extra_context: dict | None = None, hidden: dict | None = None,
            submit: str = "Yes, I'm sure", cancel_url: str = ".", describe: Callable[[object], str] = str):
    """Return the confirmation page, or a `Confirmed` reason once the staff member said yes.

    `reason` is "required", "optional" or "none" (the action records no reason). `action` is the admin action's
    name (the page posts the selected objects back to the changelist), or None for a page of its own, which posts
    `hidden` back to itself. `irreversible` says what cannot be undone, for destructive actions only: it is the
    page's one warning box, so an action that can be taken back (approve, pin) shows none. `describe` names each
    object in the list (the pin's message text rather than "Pin #4").

    A page that reuses an action (the group workspace's unpin) may point the answer's `crumbs` and `cancel_url`
    at itself before it is rendered.
    """
    confirmed = request.POST.get("post") == "yes"
    given = (request.POST.get("reason") or "").strip()
    form = form_class(request.POST if confirmed else None) if form_class else None
    reason_error = ""
    if confirmed:
        if reason == "required" and not given:
            reason_error = "Give a reason: it is written to the audit log."
        elif form is None or form.is_valid():
            result = Confirmed(given)
            result.form = form
            return result
    objects = list(objects)
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "warning": warning,
        "irreversible": irreversible,
        "reason_mode": reason,
        "reason": given,
        "reason_error": reason_error,
        "form": form,
        "objects": objects,
        "labels": [describe(obj) for obj in objects[:MAX_LISTED]],
        "more": max(len(objects) - MAX_LISTED, 0),
        "crumbs": _changelist_crumbs(admin_obj.model._meta),
        "details_template": details_template,
        "action": action,
        "hidden": sorted((hidden or {}).items()),
        "submit": submit,
        "cancel_url": cancel_url,
        "opts": admin_obj.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        **(extra_context or {}),
    }
    return TemplateResponse(request, "admin/confirm_action.html", context)


def _changelist_crumbs(opts) -> list[tuple[str, str]]:
    """The breadcrumbs between Home and the page: the list the action was chosen from. The page's title is its
    heading only (a phone showed it twice, the second time wrapped under the breadcrumbs)."""
    return [(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
             str(opts.verbose_name_plural).capitalize())]
