"""Names only a framework reaches, for vulture (`make lint`); anything else it reports is dead code to delete.

Each group says who calls the names. Conventions every app shares (admin options, DRF hooks, ...) are in
pyproject.toml's [tool.vulture] ignore_names instead. The `_.name` lines stand for an attribute of any object.
"""

# Referenced by dotted path from config/settings.py (excluded from the scan: every setting is read by Django):
# REST_FRAMEWORK, LOGGING, AXES_CLIENT_IP_CALLABLE, SPECTACULAR_SETTINGS hooks and CACHES; or called there.
spectacular_settings
beat_schedule
logging_config
content_security_policy
Metadata
api_exception_handler
JsonFormatter
RedactSecretsFilter
add_error_responses
add_event_components  # integrations.schema, a postprocessing hook named in config.schema
generator  # drf-spectacular's postprocessing-hook signature
public  # drf-spectacular's postprocessing-hook signature
client_ip
UserThrottle
MetaCallsThrottle
_.get_client  # django-redis calls the client class's get_client
_._class

# Celery signals and Django signals and the standard library's signal handlers call these with fixed arguments.
_close_old_connections
sender
frame

# Django: model fields and the attributes services set before save(update_fields=[...]); Django reads them.
updated_at
last_synced_at
requested_by
completed_at
applied_at
meta_group_id
meta_phone_number_id
pin_message
replaced_by
deliveries
claimed_until
claimed_by
processed_at
_.participant_id
_.adding  # Model._state.adding, read by Django after config.bulk.insert_row

# Django forms, DRF serializers and django-filter filter sets: declared fields, read by the frameworks' metaclasses.
media_link
template_name
template_language
template_components
file
search
policy
video
audio
document
participant_name
history  # messaging.api.pins.PinDetailOutputSerializer
created_after
created_before
received_after
received_before

# Enum members and dataclass fields: values Meta sends (read by value, never by name) and results set by keyword.
PLAYED
TEXT
IMAGE
VIDEO
AUDIO
DOCUMENT
TEMPLATE
BUSINESS
PARTICIPANT
INVITE_LINK
ADMIN_APPROVAL
partial

# Public test hooks of modules other engineers own: the sandbox's wait_idle (tests and sandbox/README.md) and
# webhooks.services.webhook_event_process (tests drive one event through it).
_.wait_idle
webhook_event_process

# Django reads these by name: AdminConfig.default_site (a dotted path to the class) and AdminSite.get_app_list.
default_site
DeskAdminSite
get_app_list
short_description  # Django's admin reads a display function's label from it (config.admin.ReadOnlyAdmin).
receipts_delivered  # MessageHourlyCount's sums, read through .values() and Sum("receipts_delivered") by name.
receipts_read

# Integrations: model fields and the serializers' output fields that show them (written by services, read by Django
# and DRF), and a DRF method field.
disabled_at
disabled_reason
last_status_code
response_body
get_event
resent

# Django template filters: called by name from templates ({{ cl.result_list|live_rows_version }}).
live_rows_version

# Django templates: the desk's template tags (desk/templatetags/desk.py) and what the workspace's templates read
# (templates/desk/workspace/): the bubbles' not-read list and pin button, the pins' time left and excerpt.
when
short_id
desk_assets
not_read
pinnable
_.time_left
_.excerpt
# desk/message_page.py: the message page's time fields, named in get_fields as f"{name}_shown" (Django's admin).
_.created_at_shown
_.accepted_at_shown
_.sent_at_shown
_.delivered_at_shown
_.read_at_shown
_.failed_at_shown
# desk/integrations_pages.py: the endpoint and delivery pages' time fields, named there as f"{name}_shown".
_.failing_since_shown
_.disabled_at_shown
_.previous_secret_expires_at_shown
_.next_attempt_at_shown
