"""The desk's pages outside any one model's admin: the dashboard (wired by config/urls.py before `admin/`)."""

from django.contrib import admin
from django.urls import path

from desk.dashboard import dashboard_view

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="desk-dashboard"),
]
