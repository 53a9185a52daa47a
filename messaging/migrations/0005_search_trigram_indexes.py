"""Trigram indexes for the messages admin's free-text search, on PostgreSQL only.

The admin searches the text of a message with `content__body__icontains`, which PostgreSQL compiles to
`UPPER(("content" ->> 'body')::text) LIKE UPPER('%word%')`: a GIN index with gin_trgm_ops on exactly that
expression answers it without a scan. Django's Meta.indexes cannot hold it here (GIN does not exist on SQLite,
which `make run` and `make test` use), so the index is created by SQL when the database is PostgreSQL.
It is built CONCURRENTLY (a non-atomic migration) so that webhooks keep writing messages while it builds.
"""

from django.db import migrations

BODY_INDEX = "outbound_body_trgm_idx"
# Must stay the SQL Django generates for content__body__icontains, or the planner will not use the index.
BODY_EXPRESSION = """UPPER(("content" ->> 'body')::text) gin_trgm_ops"""


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{BODY_INDEX}" ON "messaging_outboundmessage" '
        f"USING gin ({BODY_EXPRESSION})"
    )


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{BODY_INDEX}"')
    # Without CASCADE: if anything else has come to use pg_trgm, this fails rather than drop it.
    schema_editor.execute("DROP EXTENSION IF EXISTS pg_trgm")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction.

    dependencies = [
        ("messaging", "0004_dashboard_covering_index"),
    ]

    operations = [
        # Not TrigramExtension(): its reverse queries pg_extension on SQLite too.
        migrations.RunPython(create_indexes, drop_indexes),
    ]
