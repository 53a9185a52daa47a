"""Integration tests share the root conftest's real sandbox and Celery worker."""
