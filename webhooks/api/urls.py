"""REST routes of the webhooks app, mounted under /api/v1/."""

app_name = "webhooks"

urlpatterns: list = []
