"""Structured logging: one JSON object per line, with configured secrets redacted."""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed through `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
_SECRET_SETTINGS = (
    "SECRET_KEY",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_APP_SECRET_PREVIOUS",
    "WHATSAPP_VERIFY_TOKEN",
)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line: time, level, logger, message and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            # exc_text holds the redacted traceback when RedactSecretsFilter ran.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RedactSecretsFilter(logging.Filter):
    """Replace the value of every configured secret in a record with `[redacted]`.

    Code never logs secrets on purpose; this catches the accidents (an exception
    message quoting a URL or header, a third-party debug line).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _configured_secrets()
        if not secrets:
            return True
        message = record.getMessage()
        redacted = _redact(message, secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRIBUTES:
                continue
            if isinstance(value, str):
                setattr(record, key, _redact(value, secrets))
            elif value is not None and not isinstance(value, int | float | bool):
                # Objects are written as str() (e.g. django.request's `request`, whose repr holds the
                # query string, verify token included): redact that text, replacing the object.
                text = str(value)
                redacted = _redact(text, secrets)
                if redacted != text:
                    setattr(record, key, redacted)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = _redact(logging.Formatter().formatException(record.exc_info), secrets)
        return True


def _configured_secrets() -> list[str]:
    from django.conf import settings

    if not settings.configured:
        return []
    values = (getattr(settings, name, "") for name in _SECRET_SETTINGS)
    # Very short values would redact ordinary words; real secrets are long.
    return [value for value in values if isinstance(value, str) and len(value) >= 8]


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


def logging_config(*, level: str, tasks_in_process: bool) -> dict:
    """Return LOGGING: JSON lines on stderr with secrets redacted, at `level`, noisy libraries quieter."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_secrets": {"()": "config.logging.RedactSecretsFilter"}},
        "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            # One line per successful task drowns everything else; failures are still logged.
            "celery.app.trace": {"level": "WARNING"},
            # runserver's request lines (one per static file too) follow LOG_LEVEL: `make run` shows only 4xx/5xx.
            "django.server": {"handlers": ["console"], "level": level, "propagate": False},
            # With no broker (tasks run in-process) kombu's "No hostname was supplied" is expected, not a warning.
            "kombu.connection": {"level": "ERROR" if tasks_in_process else "WARNING"},
        },
    }
