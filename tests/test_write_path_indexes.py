"""The tables every webhook and status writes carry no index that only costs writes (issue 9, P1 and P3)."""

import pytest
from django.db import connection

# PostgreSQL's indexes (SQLite adds no LIKE index): run by `make test-services`.
pytestmark = [pytest.mark.django_db, pytest.mark.integration]

# Written on every webhook (an INSERT, a claim and an outcome) or every status (history, receipts, the message).
WRITE_PATH_TABLES = ["webhooks_webhookevent", "messaging_messagestatuschange", "messaging_messagereceipt",
                     "messaging_outboundmessage"]


def _indexes(table: str) -> dict[str, tuple[list[str], str, bool]]:
    """Return each btree index of `table`: its columns, its definition, and whether it is partial."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid), x.indpred IS NOT NULL, "
            "ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_am am ON am.oid = i.relam WHERE t.relname = %s AND am.amname = 'btree'",
            [table],
        )
        return {name: (columns, definition, partial) for name, definition, partial, columns in cursor.fetchall()}


@pytest.mark.parametrize("table", WRITE_PATH_TABLES)
def test_no_like_index_on_a_write_path_table(table):
    """`unique=True` or `db_index=True` on a CharField adds a varchar_pattern_ops index nothing here searches with."""
    like = [name for name, (_columns, definition, _partial) in _indexes(table).items()
            if "pattern_ops" in definition]
    assert like == []


@pytest.mark.parametrize("table", WRITE_PATH_TABLES)
def test_no_index_is_the_leading_part_of_another(table):
    """An index on (a) next to one on (a, b) answers nothing the second cannot, and is written on every change.

    Unique and partial indexes say more than their columns, so they are never counted as redundant.
    """
    indexes = _indexes(table)
    plain = {name: columns for name, (columns, definition, partial) in indexes.items()
             if not partial and "UNIQUE" not in definition}
    redundant = [
        (name, other)
        for name, columns in plain.items()
        for other, (other_columns, _definition, other_partial) in indexes.items()
        if not other_partial and len(other_columns) > len(columns) and other_columns[: len(columns)] == columns
    ]
    assert redundant == []
