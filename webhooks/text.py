"""Text taken from a webhook body, made safe to store in any column and to name in a log line."""

import re

# PostgreSQL's text and jsonb refuse NUL, and UTF-8 (every database's) a lone surrogate; JSON can carry both.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What a log line may name of the body: a field or kind shaped like Meta's own (e.g. group_participants_update).
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,63}")


def storable(text: str) -> str:
    """Return `text` with what no database column can hold (NUL, lone surrogates) replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def loggable_name(name: str) -> str:
    """Return a field or kind for a log line when it looks like Meta's names, else a placeholder."""
    return name if _IDENTIFIER.fullmatch(name) else "(not an identifier)"
