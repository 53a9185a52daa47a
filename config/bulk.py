"""Writes faster than the ORM's where a hot path needs them: the drain's status batches, the webhook's one row."""

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

from django.db import connection, models
from django.utils import timezone

# Types Django's get_db_prep_save passes to the driver unchanged, per field type (a datetime only when aware).
_PASSED_AS_IS: dict[str, type] = {
    "AutoField": int, "BigAutoField": int, "BigIntegerField": int, "IntegerField": int, "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int, "SmallIntegerField": int, "BooleanField": bool, "CharField": str,
    "TextField": str, "DateTimeField": datetime,
}


def _db_value(field: models.Field) -> Callable[[Any], Any]:
    """Return how a value of `field` goes to PostgreSQL: what get_db_prep_save would give, with less work per value.

    Django's get_db_prep_save goes through several layers per value (about 5 µs each, the largest Python cost of a
    status batch's writes) and, for the values the batch path writes, returns them unchanged or wraps JSON. Those
    two cases are taken directly; any other value (a naive datetime, an expression, a str for an integer) still
    goes through Django.
    """
    prep = field.get_db_prep_save
    if isinstance(field, models.JSONField):
        adapt = connection.ops.adapt_json_value

        def json_value(value: Any) -> Any:
            if value is None or hasattr(value, "as_sql"):
                return prep(value, connection)  # SQL NULL, or an expression.
            return adapt(value, field.encoder)

        return json_value
    target = field.target_field if field.is_relation else field
    as_is = _PASSED_AS_IS.get(target.get_internal_type())

    def value_of(value: Any) -> Any:
        if value is None or (type(value) is as_is and (as_is is not datetime or value.tzinfo is not None)):
            return value
        return prep(value, connection)

    return value_of


def _inserted(field: models.Field) -> Callable[[models.Model], Any]:
    """Return how to read a field's value from an object about to be inserted (auto_now times filled as save does)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: field.pre_save(obj, True)
    return attrgetter(field.attname)


def bulk_update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of every object (all of one model) in one statement per 1,000 rows.

    Django's bulk_update builds a CASE WHEN per row and field, which costs more Python time than the whole
    status batch; on PostgreSQL this is one `UPDATE … FROM unnest(…)` instead, with one array parameter per
    column (so the driver has a handful of parameters to bind, not one per row and field). Elsewhere (SQLite, the
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
    # The attributes as they are, as Django's bulk_update writes them (auto_now is not applied).
    readers = [(attrgetter(field.attname), _db_value(field)) for field in columns]
    quote = connection.ops.quote_name
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in columns)
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    names = ", ".join(quote(field.column) for field in columns)
    # Only quoted names and types from the model's meta are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS v ({names}) "
        f"WHERE t.{quote(meta.pk.column)} = v.{quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objs), 1000):
            chunk = objs[start:start + 1000]
            cursor.execute(sql, [[db_value(read(obj)) for obj in chunk] for read, db_value in readers])


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
    readers = [(_inserted(field), _db_value(field)) for field in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    # wrap_database_errors: the raw cursor's errors become Django's (IntegrityError, OperationalError), as the ORM's.
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(
        f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"  # Names from the model's meta only.
    ) as copy:
        for obj in objs:
            copy.write_row([db_value(read(obj)) for read, db_value in readers])


def bulk_insert_columns(model: type[models.Model], *, columns: dict[str, Sequence], same: dict[str, Any]) -> None:
    """Insert one row per position of the `columns` lists (field name -> values), each row also holding `same`.

    For many rows that differ in a column or two (a delivery per event and endpoint) no object is built per row and
    no value converted per row: on PostgreSQL this is one `INSERT … SELECT … FROM unnest(…)`, one array parameter
    per varying column and one parameter per shared value. Every concrete field but the key and the auto_now ones
    must be named, in one of the two; auto_now times are filled with now, as save() does. Elsewhere (SQLite) it is
    Django's bulk_create.
    """
    meta = model._meta
    stamped = [f for f in meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    if stamped and connection.vendor == "postgresql":
        now = timezone.now()
        same = {**same, **{field.name: now for field in stamped}}
    varying = [meta.get_field(name) for name in columns]
    shared = [meta.get_field(name) for name in same]
    named = {f.name for f in (*varying, *shared, *stamped)}
    if missing := {f.name for f in meta.concrete_fields if not f.primary_key} - named:
        raise ValueError(f"bulk_insert_columns: no value for {', '.join(sorted(missing))}")
    rows = list(zip(*columns.values(), strict=True))
    if not rows:
        return
    if connection.vendor != "postgresql":
        fixed = {field.attname: value for field, value in zip(shared, same.values(), strict=True)}
        model.objects.bulk_create([model(**fixed, **{f.attname: v for f, v in zip(varying, row, strict=True)})
                                   for row in rows])
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in (*varying, *shared))
    selected = ", ".join([*(f"v.{quote(field.column)}" for field in varying),
                          *(f"%s::{field.cast_db_type(connection)}" for field in shared)])
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in varying)
    aliases = ", ".join(quote(field.column) for field in varying)
    # Only quoted names and types from the model's meta are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT {selected} FROM unnest({arrays}) AS v ({aliases})"
    )
    shared_values = [_db_value(field)(value) for field, value in zip(shared, same.values(), strict=True)]
    array_values = [[_db_value(field)(value) for value in values]
                    for field, values in zip(varying, columns.values(), strict=True)]
    with connection.cursor() as cursor:
        # The constants' placeholders come first in the statement (in the select list), then the arrays.
        cursor.execute(sql, [*shared_values, *array_values])


def insert_row(obj: models.Model, *, fields: Sequence[str] | None = None) -> None:
    """Insert one new object and set its primary key, as `obj.save(force_insert=True)` does, with less Python time.

    The webhook endpoint stores one row per request, and the ORM's save (signals, the INSERT compiled for every
    call, each value through several layers) was the largest part of that request's Python time. On PostgreSQL
    this is one INSERT … RETURNING, its text built once, every value a parameter. `fields` names the columns to
    write (default: every concrete field); the others must have a `db_default` equal to their `default`, so the
    row is the one save() would store. Elsewhere (SQLite) it is save(). No model signal is sent: use it only for
    models nothing listens to.
    """
    if connection.vendor != "postgresql":
        obj.save(force_insert=True)
        return
    sql, readers = _insert_statement(type(obj), None if fields is None else tuple(fields))
    with connection.cursor() as cursor:
        cursor.execute(sql, [db_value(read(obj)) for read, db_value in readers])
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False  # As after save(): the object is now a stored row.
    obj._state.db = connection.alias


@cache
def _insert_statement(
    model: type[models.Model], names: tuple[str, ...] | None
) -> tuple[str, list[tuple[Callable, Callable]]]:
    """Return the INSERT of one `model` row and how to read each of its values from an object."""
    meta = model._meta
    if names is None:
        fields = [field for field in meta.concrete_fields if not field.primary_key]
    else:
        fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608  Names from meta.
        f"RETURNING {quote(meta.pk.column)}"
    )
    return sql, [(_inserted(field), _db_value(field)) for field in fields]
