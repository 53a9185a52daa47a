"""REST routes of the messaging app, mounted under /api/v1/."""

app_name = "messaging"

urlpatterns: list = []
