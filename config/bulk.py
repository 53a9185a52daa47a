"""Bulk writes faster than the ORM's where the batch path needs them (the webhook drain's status batches)."""

from collections.abc import Sequence

from django.db import connection, models


def bulk_update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of every object (all of one model) in one statement per 500 rows.

    Django's bulk_update builds a CASE WHEN per row and field, which costs more Python time than the whole
    status batch; on PostgreSQL this is one `UPDATE … FROM (VALUES …)` instead. Elsewhere (SQLite, the
    embedded default) it is Django's bulk_update.
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields=list(fields))
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in columns) + ")"
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    names = ", ".join(quote(field.column) for field in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), 500):
            chunk = objs[start:start + 500]
            params = [field.get_db_prep_save(getattr(obj, field.attname), connection)
                      for obj in chunk for field in columns]
            # Only quoted names from the model's meta are formatted in; every value is a parameter.
            sql = (
                f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v ({names}) "
                f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
            )
            cursor.execute(sql, params)


def bulk_insert_rows(objs: Sequence[models.Model]) -> None:
    """Insert new objects (all of one model) without reading back their primary keys.

    Django's bulk_create on PostgreSQL costs about twice the Python time of a COPY of the same rows, and the batch
    path never needs the new keys. Elsewhere (SQLite) it is Django's bulk_create.
    """
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # wrap_database_errors: the raw cursor's errors become Django's (IntegrityError, OperationalError), as the ORM's.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(
        f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"  # Names from the model's meta only.
    ) as copy:
        for obj in objs:
            # pre_save fills auto_now(_add) times as an INSERT would; get_db_prep_save adapts JSON and times.
            copy.write_row([field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields])
