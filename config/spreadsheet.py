"""Cells of the CSV files staff download and open in a spreadsheet."""

from datetime import UTC, datetime
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection"); tab and carriage
# return too, since some spreadsheets strip them and read what follows.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Return a value for a CSV cell: "" for None, a time in ISO 8601 UTC to the second ("2026-12-07T00:39:59Z",
    what spreadsheets and scripts parse alike), text that would start a formula prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value  # The spreadsheet shows the text as written, and never evaluates it.
    return value
