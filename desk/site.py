"""The admin site's class: its index and sidebar in the desk's order, WhatsApp first, access control last.

Django sorts apps and models alphabetically, which put "Authentication and authorization" and "Axes" above the
groups and messages staff came for, and spread tokens, users and lockouts over three headings. Here every app is
placed in one named section; an app that is not listed (a new one) keeps its own heading, after the sections.
"""

from django.contrib.admin import AdminSite
from django.urls import reverse

# (section name, the apps it gathers, its models in the order shown). Models not named follow, alphabetically.
SECTIONS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    # The audit log's table belongs to the groups app (core.models.AuditEntry keeps app_label "groups").
    ("WhatsApp groups", ("groups",),
     ("Group", "Participant", "JoinRequest", "GroupOperation", "GroupEvent", "PhoneNumber", "AuditEntry")),
    ("Messages", ("messaging",), ("OutboundMessage", "Pin", "InboundMessage", "AccountError", "UnmatchedStatus")),
    ("Webhooks", ("webhooks",), ("WebhookEvent",)),
    ("Integrations", ("integrations",), ()),
    ("Access", ("auth", "authtoken", "axes"),
     ("User", "Group", "TokenProxy", "AccessAttempt", "AccessFailureLog", "AccessLog")),
]

# Two screens called "Groups" side by side confuse: Django's user groups are the desk's staff roles.
RENAMED = {("auth", "Group"): "Staff roles (user groups)"}


def _section_of(app_label: str) -> int | None:
    return next((i for i, (_name, labels, _order) in enumerate(SECTIONS) if app_label in labels), None)


def _desk_section(request) -> dict | None:
    """Return the desk's own pages (dashboard, triage) as the first section, for those who may read messages."""
    if not request.user.has_perm("messaging.view_outboundmessage"):
        return None
    pages = [("Dashboard", "Dashboard", reverse("desk-dashboard")),
             ("Failures", "Failures by error code", reverse("admin:messaging_failures")),
             ("ErrorCodes", "Error codes: what they mean, what to do", reverse("admin:messaging_error_catalog"))]
    return {
        "name": "Support desk", "app_label": "desk", "app_url": pages[0][2], "has_module_perms": True,
        "models": [{"name": name, "object_name": key, "admin_url": url, "add_url": None, "view_only": True,
                    "perms": {"view": True}} for key, name, url in pages],
    }


class DeskAdminSite(AdminSite):
    site_header = "Groupdesk"
    site_title = "Groupdesk"
    index_title = "Support desk"
    site_url = None  # No public site: no "View site" link that 404s.

    def get_app_list(self, request, app_label=None):
        """Return the desk's pages, then the sections in order; for one app's page, the section that holds it."""
        apps = self._build_app_dict(request)
        sections: dict[int | str, dict] = {}
        for label, app in apps.items():
            index = _section_of(label)
            if index is None:
                sections[label] = app
                continue
            name, labels, _order = SECTIONS[index]
            section = sections.setdefault(index, {**app, "name": name, "app_label": labels[0], "models": []})
            if label == labels[0]:  # The section's link goes to its first app's page.
                section.update(app_url=app["app_url"], app_label=label)
            section["models"].extend(app["models"])
        if app_label is not None:
            wanted = _section_of(app_label)
            sections = {key: value for key, value in sections.items() if key == (app_label if wanted is None
                                                                                  else wanted)}
        ordered = [sections[key] for key in sorted(k for k in sections if isinstance(k, int))]
        ordered += sorted((v for k, v in sections.items() if not isinstance(k, int)), key=lambda a: a["name"].lower())
        for section in ordered:
            index = _section_of(section["app_label"])
            order = SECTIONS[index][2] if index is not None else ()
            for model in section["models"]:
                model["name"] = RENAMED.get((model["model"]._meta.app_label, model["object_name"]), model["name"])
            section["models"].sort(key=lambda m: (order.index(m["object_name"]) if m["object_name"] in order
                                                  else len(order), m["name"]))
        desk = _desk_section(request) if app_label is None else None
        return [desk, *ordered] if desk else ordered
