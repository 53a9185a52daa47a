"""Docs follow the code: every environment variable the settings read is in .env.example and the README."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS = re.compile(r"""(?:env(?:\.\w+)?|_secret|_whatsapp|_whatsapp_secret)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read_by_settings() -> set[str]:
    return set(READS.findall((ROOT / "config" / "settings.py").read_text()))


def _variables_in_env_example() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_settings_read_variables():
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "WHATSAPP_APP_SECRET"} <= _variables_read_by_settings()


def test_every_variable_is_in_env_example():
    missing = _variables_read_by_settings() - _variables_in_env_example()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in _variables_read_by_settings() if f"`{name}`" not in readme}
    assert not missing, f"add to README's configuration table: {sorted(missing)}"
