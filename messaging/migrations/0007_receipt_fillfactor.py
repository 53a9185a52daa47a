"""Leave half of each page of receipts free, so that a read rewrites its receipt in place (PostgreSQL only).

A receipt is written when a participant's `delivered` arrives and again at their `read`; neither changes an indexed
column. With room on the receipt's page, PostgreSQL writes the new version beside the old one and touches none of
the table's four indexes (a HOT update); on a full page it wrote an entry in each.
"""

from django.db import migrations

FILLFACTOR = 50  # Room for every receipt of a page to be rewritten once (its read), as a page fills in order.


def _set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE messaging_messagereceipt SET (fillfactor = {FILLFACTOR})")


def _reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE messaging_messagereceipt RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_drop_redundant_indexes"),
    ]

    operations = [
        migrations.RunPython(_set, _reset),
    ]
