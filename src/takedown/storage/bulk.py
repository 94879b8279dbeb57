"""Bulk reads and writes for a page of thousands of rows, which a million-entry sync does a
hundred times: one statement per page instead of one per 500-row chunk, and column-wise bind
processing instead of SQLAlchemy's per-row, per-column path.

On SQLite both go to the driver directly (a membership test is `IN (SELECT value FROM
json_each(?))`, one bound JSON array, so nothing is compiled per page); on PostgreSQL the
lookups bind one array (`= ANY(...)`) and inserts use SQLAlchemy's batched executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, String, Table, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY


def _bound_column(
    conn: Connection, table: Table, name: str, values: Sequence[Any]
) -> Sequence[Any]:
    """The column's values as the driver takes them; equal consecutive objects (one timestamp
    or one interned tag list for a whole page) are bound once."""
    process = table.c[name].type.bind_processor(conn.dialect)
    if process is None:
        return values
    out: list[Any] = []
    seen: Any = object()
    bound: Any = None
    for value in values:
        if value is None:
            out.append(None)
            continue
        if value is not seen:
            bound = process(value)
            if isinstance(bound, datetime):
                bound = bound.isoformat(" ")  # what sqlite3's own adapter writes
            seen = value
        out.append(bound)
    return out


def insert_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert rows given as tuples in `names` order."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
        return
    columns = list(zip(*rows, strict=True))
    bound = [
        _bound_column(conn, table, name, col) for name, col in zip(names, columns, strict=True)
    ]
    quoted = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', list(zip(*bound, strict=True))
    )


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """`insert_rows` for rows given as dicts with the same keys."""
    if rows:
        names = list(rows[0])
        insert_rows(conn, table, names, [tuple(row[n] for n in names) for row in rows])


def rows_where_in(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    equal: dict[str, Any],
    key: str,
    values: Sequence[str],
) -> list[tuple[Any, ...]]:
    """`SELECT columns FROM table WHERE equal... AND key IN values` as plain tuples, in one
    statement. Values are left as the driver returns them (a timestamp may be a string on
    SQLite), so callers only test them for NULL or use ids and text."""
    if not values:
        return []
    if conn.dialect.name == "sqlite":
        where = " AND ".join(f'"{name}" = ?' for name in equal)
        sql = (
            f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)} FROM "{table.name}"'
            f' WHERE {where}{" AND " if where else ""}"{key}" IN (SELECT value FROM json_each(?))'
        )
        params = (*equal.values(), orjson.dumps(list(values)).decode())
        return [tuple(r) for r in conn.exec_driver_sql(sql, params)]
    query = select(*(table.c[c] for c in columns)).where(
        *(table.c[name] == value for name, value in equal.items()),
        table.c[key] == any_(bindparam("values", type_=ARRAY(String))),
    )
    return [tuple(r) for r in conn.execute(query, {"values": list(values)})]
