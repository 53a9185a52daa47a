"""REST routes of the groups app, mounted under /api/v1/."""

app_name = "groups"

urlpatterns: list = []
