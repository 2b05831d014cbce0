"""Rows in and out of the database as columns (numpy arrays), for the computations that work on whole tables.

The coverage figures and the household round states are computed in numpy from the raw rows (server/visits/
compute.py, server/coverage/compute.py): PostgreSQL's row executor took a minute for what numpy does in a second.
What costs is moving the rows, so this module moves them the cheapest way each database allows:

- **Reading** on PostgreSQL: each row is turned into bytes by the types' binary send functions, concatenated, and
  all rows aggregated into one `bytea` (`string_agg`), which numpy reads as a structured array without a Python
  object per value. `COPY … TO STDOUT` sends one message per row, which psycopg hands to Python one at a time (3 s
  for 2 M rows); one array per column (`array_agg`) cost twice as much as one concatenation per row; a plain fetch
  makes a tuple per row. Several relations go in one statement (one round trip), and a `ReaderPool` reads them on
  extra connections that share the caller's snapshot, so both cores of a database server work (the full
  recompute). On SQLite (the demo and the tests) a plain fetch.
- **Writing** many rows on PostgreSQL: `COPY … FROM STDIN (FORMAT BINARY)`, the rows laid out by numpy as one
  buffer; a few rows: `INSERT … SELECT FROM unnest(arrays)` with binary parameters. On SQLite `executemany`.

Every value is an int64 column: integers and ids as they are, booleans 0/1, times as microseconds since the Unix
epoch (UTC), days as days since the Unix epoch. NULL is `NULL` (the smallest int64) in both directions; columns
read must not hold NULL (wrap them in `nullable()`): a NULL has no fixed width.
"""

from __future__ import annotations

import datetime as dt
import functools
import struct
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.db import connection

NULL = np.iinfo(np.int64).min
INT, INT4, TIME, DATE = "int", "int4", "time", "date"
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in µs since 1970-01-01: PostgreSQL's binary times count from it
_PG_EPOCH_DAYS = 10_957
_UNIX = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DAY0 = dt.date(1970, 1, 1)
# kind → (SQL cast, send function, numpy type of the bytes)
_SEND = {INT: ("int8", "int8send", ">i8"), INT4: ("int4", "int4send", ">i4"),
         TIME: ("timestamptz", "timestamptz_send", ">i8"), DATE: ("date", "date_send", ">i4")}


@dataclass(frozen=True)
class Relation:
    """A SELECT of len(kinds) columns (kinds: INT, INT4 for values that fit 32 bits, TIME, DATE)."""

    sql: str
    params: Sequence
    kinds: Sequence[str]


@dataclass(frozen=True)
class Col:
    """A column of a Query: its SQL expression and kind. With `bits`, its values (0 … 2**bits - 1) are packed with
    the next such columns into one int8 on PostgreSQL, which halves what the server sends (each value sent costs
    ~0.1 µs there); `bound` names a table whose largest id bounds the values: if it does not fit, the query is read
    again unpacked."""

    sql: str
    kind: str = INT
    bits: int | None = None
    bound: str | None = None


@dataclass(frozen=True)
class Query:
    """SELECT of `cols` followed by `tail` (FROM … WHERE …)."""

    cols: Sequence[Col]
    tail: str
    params: Sequence = ()

    def words(self) -> list[list[int]]:
        """Indexes of the columns in each value sent when packed: packable columns share words of up to 63 bits."""
        words: list[list[int]] = []
        used = 63
        for i, col in enumerate(self.cols):
            if col.bits is None:
                words.append([i])
                used = 63
            elif used + col.bits > 63:
                words.append([i])
                used = col.bits
            else:
                words[-1].append(i)
                used += col.bits
        return words

    def relation(self, packed: bool) -> Relation:
        if not packed:
            return Relation(f"SELECT {', '.join(c.sql for c in self.cols)} {self.tail}", self.params,
                            [c.kind for c in self.cols])
        exprs, kinds = [], []
        for word in self.words():
            if len(word) == 1 and self.cols[word[0]].bits is None:
                exprs.append(self.cols[word[0]].sql)
                kinds.append(self.cols[word[0]].kind)
                continue
            shift, parts = 0, []
            for i in reversed(word):
                parts.append(f"(({self.cols[i].sql})::int8 << {shift})" if shift else f"({self.cols[i].sql})::int8")
                shift += self.cols[i].bits
            exprs.append(" | ".join(reversed(parts)))
            kinds.append(INT)
        return Relation(f"SELECT {', '.join(exprs)} {self.tail}", self.params, kinds)

    def unpack(self, values: list[np.ndarray], packed: bool) -> list[np.ndarray]:
        if not packed:
            return values
        out: list[np.ndarray | None] = [None] * len(self.cols)
        for word, value in zip(self.words(), values, strict=True):
            if len(word) == 1 and self.cols[word[0]].bits is None:
                out[word[0]] = value
                continue
            shift = 0
            for i in reversed(word):
                bits = self.cols[i].bits
                out[i] = (value >> shift) & ((1 << bits) - 1)
                shift += bits
        return out  # type: ignore[return-value]

    def bounds(self) -> dict[str, int]:
        """Table → the largest id the packing allows."""
        out: dict[str, int] = {}
        for col in self.cols:
            if col.bound and col.bits:
                out[col.bound] = min(out.get(col.bound, 1 << 62), (1 << col.bits) - 1)
        return out


def queries_read(queries: Sequence[Query], pool: ReaderPool | None = None,
                 prepare: bool = False) -> list[list[np.ndarray]] | Future:
    """Read the queries' columns: on this connection (one statement on PostgreSQL), or, given a pool, on one of its
    connections (a future of the result). `prepare`: a statement run after every push, whose text does not change
    (psycopg keeps it prepared on the connection: no parsing, and after five runs PostgreSQL's generic plan if it is
    as good as the custom ones)."""
    if pool is not None:
        return pool.submit_queries(queries)
    if connection.vendor != "postgresql":
        return [q.unpack(_sqlite_read(q.relation(False)), False) for q in queries]
    import psycopg

    connection.ensure_connection()
    # Django's cursors bind parameters on the client, which allows no binary results: a plain psycopg cursor
    with psycopg.Cursor(connection.connection) as cursor:
        return _pg_queries(cursor, queries, prepare=prepare)


def _pg_queries(cursor, queries: Sequence[Query], prepare: bool = False) -> list[list[np.ndarray]]:
    bounds: dict[str, int] = {}
    for q in queries:
        for table, limit in q.bounds().items():
            bounds[table] = min(bounds.get(table, limit), limit)
    tables = sorted(bounds)
    relations = [q.relation(True) for q in queries]
    if tables:  # the largest ids, in the same statement: the same snapshot as the rows
        relations.append(Relation("SELECT " + ", ".join(f"(SELECT COALESCE(max(id), 0) FROM {t})" for t in tables),
                                  [], [INT] * len(tables)))
    read = _pg_read(cursor, relations, prepare=prepare)
    fits = not tables or all(int(read[-1][i][0]) <= bounds[t] for i, t in enumerate(tables))
    if not fits:  # ids beyond what the packing holds (never at city scale): the plain columns
        return [q.unpack(values, False) for q, values in
                zip(queries, _pg_read(cursor, [q.relation(False) for q in queries]), strict=True)]
    return [q.unpack(values, True) for q, values in zip(queries, read[:len(queries)], strict=True)]


def nullable(expression: str, kind: str) -> str:
    """SQL for a column that may be NULL, so that it reads as NULL (see the module docstring)."""
    if kind in (INT, INT4):
        return f"COALESCE({expression}, {NULL if kind == INT else np.iinfo(np.int32).min})"
    if connection.vendor == "postgresql":
        return f"COALESCE({expression}, '-infinity')"  # read back as the smallest int64, i.e. NULL
    return expression  # SQLite: None reads as NULL


def _aggregate(relation: Relation) -> str:
    names = [f"c{i}" for i in range(len(relation.kinds))]
    row = " || ".join(f"{_SEND[k][1]}({n}::{_SEND[k][0]})" for n, k in zip(names, relation.kinds, strict=True))
    return f"(SELECT string_agg({row}, ''::bytea) FROM ({relation.sql}) q ({', '.join(names)}))"


def _pg_read(cursor, relations: Sequence[Relation], prepare: bool = False) -> list[list[np.ndarray]]:
    cursor.execute("SELECT " + ", ".join(_aggregate(r) for r in relations),
                   [p for r in relations for p in r.params], binary=True, prepare=prepare or None)
    raw = cursor.fetchone()
    return [_parse(value, r.kinds) for value, r in zip(raw, relations, strict=True)]


def _parse(raw: bytes | None, kinds: Sequence[str]) -> list[np.ndarray]:
    dtype = np.dtype([(f"c{i}", _SEND[k][2]) for i, k in enumerate(kinds)])
    rows = np.frombuffer(raw or b"", dtype=dtype)
    out = []
    for i, kind in enumerate(kinds):
        values = rows[f"c{i}"].astype(np.int64)
        if kind in (TIME, DATE, INT4):
            infinite = values == (NULL if kind == TIME else np.iinfo(np.int32).min)
            if kind != INT4:
                values += _PG_EPOCH_US if kind == TIME else _PG_EPOCH_DAYS
            values[infinite] = NULL
        out.append(values)
    return out


def _sqlite_read(relation: Relation) -> list[np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute(relation.sql, relation.params)
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in relation.kinds]
    return [_sqlite_column(values, kind) for values, kind in zip(columns, relation.kinds, strict=True)]


def _sqlite_column(values: Sequence, kind: str) -> np.ndarray:
    if kind in (INT, INT4):
        return np.fromiter((NULL if v is None else v for v in values), dtype=np.int64, count=len(values))
    convert = _time_us if kind == TIME else _day
    return np.fromiter((NULL if v is None else convert(v) for v in values), dtype=np.int64, count=len(values))


def _time_us(value) -> int:
    """µs since the Unix epoch of a time as SQLite gives it back: a datetime (Django's converters; naive = UTC) or
    UTC text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - _UNIX
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _day(value) -> int:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return (value - _DAY0).days


class ReaderPool:
    """Extra PostgreSQL connections that read in the caller's snapshot, in parallel threads.

    `ReaderPool.open(n)` gives a pool only when the current transaction is the outermost one and has written
    nothing yet: then its snapshot (`pg_export_snapshot`) holds every row the caller can see. Inside an enclosing
    transaction (a test's) the caller's uncommitted rows would be invisible to other connections, so it gives None
    and the caller reads on its own connection (queries_read), the same statements one after the other."""

    def __init__(self, snapshot: str, size: int):
        self._snapshot = snapshot
        self._local = threading.local()
        self._connections: list = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="columns-reader")

    @classmethod
    def open(cls, size: int = 2) -> ReaderPool | None:
        if connection.vendor != "postgresql" or len(connection.atomic_blocks) != 1 or size < 1:
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            return cls(cursor.fetchone()[0], size)

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            import psycopg

            params = connection.get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            conn = psycopg.connect(**params)
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            conn.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
            conn.execute("SET LOCAL jit = off")
            conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # the pool is the parallelism
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def submit_queries(self, queries: Sequence[Query]) -> Future:
        """Read these queries on one of the pool's connections; the future gives queries_read's result."""
        import psycopg

        def work():
            with psycopg.Cursor(self._connection()) as cursor:
                return _pg_queries(cursor, queries)

        return self._executor.submit(work)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for conn in self._connections:
            conn.close()

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Column:
    """A column to write: its name, its database type (bigint, integer, boolean, date, timestamp with time zone)
    and its values (int64, NULL for NULL, or one value for every row)."""

    name: str
    db_type: str
    values: np.ndarray | int | None


def db_type(model, field_name: str) -> str:
    """The database type of a model field as this module names it."""
    field = model._meta.get_field(field_name)
    internal = field.get_internal_type()
    if internal in ("ForeignKey", "BigAutoField", "BigIntegerField", "PositiveBigIntegerField"):
        return "bigint"
    if internal in ("IntegerField", "PositiveIntegerField", "SmallIntegerField", "PositiveSmallIntegerField"):
        return "integer"
    return {"BooleanField": "boolean", "DateField": "date", "DateTimeField": "timestamp with time zone"}[internal]


def model_columns(model, **values) -> list[Column]:
    """Columns of `model` (field name → values), typed from the model."""
    return [Column(model._meta.get_field(name).column, db_type(model, name), value) for name, value in values.items()]


def _full(column: Column, n: int) -> np.ndarray:
    if isinstance(column.values, np.ndarray):
        return column.values.astype(np.int64, copy=False)
    return np.full(n, NULL if column.values is None else column.values, dtype=np.int64)


def _count(columns: Sequence[Column]) -> int:
    sizes = {len(c.values) for c in columns if isinstance(c.values, np.ndarray)}
    if len(sizes) != 1:
        raise ValueError(f"columns of different lengths: {sizes}")
    return sizes.pop()


def rows_insert(table: str, columns: Sequence[Column]) -> int:
    """Insert the rows given as columns; returns the number of rows."""
    n = _count(columns)
    if n == 0:
        return 0
    if connection.vendor == "postgresql":
        if n > _FEW:
            _pg_copy(table, columns, n)
        else:
            sql, params = _unnest(columns, n)
            _pg_execute(f"INSERT INTO {table} ({', '.join(c.name for c in columns)}) {sql}", params)
        return n
    names = ", ".join(c.name for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})",
                           _python_rows(columns, n))
    return n


def rows_upsert(table: str, key: Sequence[str], columns: Sequence[Column]) -> int:
    """Insert the rows, or update every other column of the row with the same `key` columns (a unique constraint)."""
    n = _count(columns)
    if n == 0:
        return 0
    names = [c.name for c in columns]
    update = ", ".join(f"{c} = excluded.{c}" for c in names if c not in key)
    conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {update}"
    if connection.vendor == "postgresql":
        sql, params = _unnest(columns, n)
        _pg_execute(f"INSERT INTO {table} ({', '.join(names)}) {sql} {conflict}", params)
        return n
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))}) "
                           f"{conflict}", _python_rows(columns, n))
    return n


class Int8Array:
    """An int64 numpy array passed to PostgreSQL as an int8[] parameter in the binary format, laid out by numpy
    (psycopg would build and inspect a Python int per element: ~7 ms for a 500-row write of a dozen columns)."""

    def __init__(self, values: np.ndarray):
        self.values = np.asarray(values, dtype=np.int64)


@functools.cache
def _int8_array_dumper():
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    class Int8ArrayDumper(Dumper):
        format = Format.BINARY
        oid = 1016  # int8[]

        def dump(self, obj: Int8Array) -> bytes:
            n = len(obj.values)
            if n == 0:
                return struct.pack(">iiI", 0, 0, 20)
            body = np.empty(n, dtype=[("len", ">i4"), ("v", ">i8")])
            body["len"] = 8
            body["v"] = obj.values
            return struct.pack(">iiIii", 1, 0, 20, n, 1) + body.tobytes()

    return Int8ArrayDumper


_CONVERT = {"bigint": "{}", "integer": "{}::integer", "boolean": "{} <> 0",
            "date": "DATE '1970-01-01' + {}::integer",
            "timestamp with time zone": "timestamptz 'epoch' + {} * interval '1 microsecond'"}


def _unnest(columns: Sequence[Column], n: int) -> tuple[str, list]:
    """`SELECT … FROM unnest(arrays)` of these columns, typed, and its parameters (one Int8Array each, NULL as
    the NULL sentinel, turned back into NULL in the SQL)."""
    names = [f"c{i}" for i in range(len(columns))]
    select = ", ".join(_CONVERT[c.db_type].format(f"NULLIF(x.{name}, {NULL})")
                       for c, name in zip(columns, names, strict=True))
    arrays = ", ".join("%s::int8[]" for _ in columns)
    return (f"SELECT {select} FROM unnest({arrays}) AS x ({', '.join(names)})",
            [Int8Array(_full(c, n)) for c in columns])


def _pg_execute(sql: str, params: list, prepare: bool = False) -> None:
    """Execute with parameters bound by the server (Django's cursors inline them into the SQL text: thousands of
    array elements to parse), Int8Array parameters in the binary format."""
    import psycopg

    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.adapters.register_dumper(Int8Array, _int8_array_dumper())
        cursor.execute(sql, [Int8Array(np.array(p, dtype=np.int64)) if isinstance(p, list) else p for p in params],
                       prepare=prepare or None)


@dataclass
class Changes:
    """What makes a table's stored rows equal to the computed ones: rows to delete (ids), to update (an "id"
    column first) and to insert."""

    table: str
    deleted: np.ndarray
    updated: list[Column]
    inserted: list[Column]

    def __len__(self) -> int:
        return len(self.deleted) + _count(self.updated) + _count(self.inserted)


def rows_diff(table: str, *, computed: Sequence[Column], key: Sequence[str], compared: Sequence[str],
              stored: Sequence[np.ndarray]) -> Changes:
    """Compare the computed rows with the stored ones (`stored`: id, the key columns, the compared columns, as
    read), matching them by `key`. Columns computed but not compared (a time stamp) are written with the rows that
    changed."""
    from server.common.groups import match

    by_name = {c.name: c for c in computed}
    n = _count(computed)
    mine = [_full(by_name[k], n) for k in key]
    found = match(mine, list(stored[1:1 + len(key)]))
    known = found >= 0
    differs = np.zeros(n, bool)
    for name, theirs in zip(compared, stored[1 + len(key):], strict=True):
        values = _full(by_name[name], n)
        differs[known] |= values[known] != theirs[found[known]]
    backed = np.zeros(len(stored[0]), bool)
    backed[found[known]] = True
    changed = np.flatnonzero(known & differs)
    new = np.flatnonzero(~known)
    updated = [c for c in computed if c.name not in key]
    return Changes(
        table=table, deleted=stored[0][~backed],
        updated=[Column("id", "bigint", stored[0][found[changed]]),
                 *(Column(c.name, c.db_type, _full(c, n)[changed]) for c in updated)],
        inserted=[Column(c.name, c.db_type, _full(c, n)[new]) for c in computed])


_FEW = 20_000  # rows: up to this many are written by one statement with array parameters, more by COPY


def changes_write(changes: Sequence[Changes]) -> int:
    """Write the changes of several tables; returns the number of rows deleted, updated and inserted. On
    PostgreSQL a few rows of every table go in one statement (one round trip); many go by COPY."""
    total = sum(len(c) for c in changes)
    if total == 0:
        return 0
    if connection.vendor != "postgresql" or total > _FEW:
        for c in changes:
            rows_delete(c.table, "id", c.deleted)
            rows_update(c.table, "id", c.updated)
            rows_insert(c.table, c.inserted)
        return total
    ctes, params = [], []
    for c in changes:
        t = c.table
        if len(c.deleted):
            ctes.append(f"DELETE FROM {t} WHERE id = ANY(%s::int8[])")
            params.append(Int8Array(c.deleted))
        n = _count(c.updated)
        if n:
            sql, p = _unnest(c.updated, n)
            names = [col.name for col in c.updated]
            sets = ", ".join(f"{name} = x.{name}" for name in names[1:])
            ctes.append(f"UPDATE {t} SET {sets} FROM ({sql}) x ({', '.join(names)}) WHERE {t}.id = x.id")
            params += p
        n = _count(c.inserted)
        if n:
            sql, p = _unnest(c.inserted, n)
            ctes.append(f"INSERT INTO {t} ({', '.join(col.name for col in c.inserted)}) {sql}")
            params += p
    # Each change touches its own rows (deleted and updated rows are distinct, inserted keys are new), so the
    # data-modifying CTEs of one statement cannot conflict.
    _pg_execute("WITH " + ", ".join(f"w{i} AS ({cte})" for i, cte in enumerate(ctes)) + " SELECT 1", params)
    return total


def _python_rows(columns: Sequence[Column], n: int) -> list[tuple]:
    converted = [_python_values(c, _full(c, n)) for c in columns]
    return list(zip(*converted, strict=True))


def _python_values(column: Column, values: np.ndarray) -> list:
    convert = {"timestamp with time zone": lambda v: _UNIX + dt.timedelta(microseconds=v),
               "date": lambda v: _DAY0 + dt.timedelta(days=v), "boolean": bool}.get(column.db_type)
    if convert is None:
        return [None if v == NULL else v for v in values.tolist()]
    return [None if v == NULL else convert(v) for v in values.tolist()]


_BINARY = {"bigint": ("8", ">i8", 0), "integer": ("4", ">i4", 0), "boolean": ("1", ">i1", 0),
           "date": ("4", ">i4", _PG_EPOCH_DAYS), "timestamp with time zone": ("8", ">i8", _PG_EPOCH_US)}


def _pg_copy(table: str, columns: Sequence[Column], n: int) -> None:
    """COPY the rows in PostgreSQL's binary format, laid out by numpy: rows that have their NULLs in the same
    columns share a layout (a NULL is a length of -1 and no value), so each such group is one structured array."""
    values = [_full(c, n) for c in columns]
    nulls = np.stack([v == NULL for v in values], axis=1) if values else np.zeros((n, 0), bool)
    patterns, which = np.unique(nulls, axis=0, return_inverse=True)
    which = which.reshape(-1)
    parts = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
    for p, pattern in enumerate(patterns):
        rows = np.flatnonzero(which == p)
        fields = [("n", ">i2")]
        for i, (column, is_null) in enumerate(zip(columns, pattern, strict=True)):
            fields.append((f"l{i}", ">i4"))
            if not is_null:
                fields.append((f"v{i}", _BINARY[column.db_type][1]))
        out = np.zeros(len(rows), dtype=fields)
        out["n"] = len(columns)
        for i, (column, is_null) in enumerate(zip(columns, pattern, strict=True)):
            width, _, epoch = _BINARY[column.db_type]
            if is_null:
                out[f"l{i}"] = -1
            else:
                out[f"l{i}"] = int(width)
                out[f"v{i}"] = values[i][rows] - epoch
        parts.append(out.tobytes())
    parts.append(struct.pack(">h", -1))
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(c.name for c in columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(b"".join(parts))


def rows_update(table: str, key: str, columns: Sequence[Column]) -> int:
    """Update the rows whose `key` column (the first of `columns`) has the given values: set the other columns."""
    n = _count(columns) if columns else 0
    if n == 0:
        return 0
    names = [c.name for c in columns]
    sets = ", ".join(f"{c} = x.{c}" for c in names if c != key)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # staged by COPY (arrays of a million values as parameters cost seconds to send), then one UPDATE
            cursor.execute("DROP TABLE IF EXISTS columns_update")
            cursor.execute(f"CREATE TEMP TABLE columns_update ({', '.join(f'{c.name} {c.db_type}' for c in columns)})")
            _pg_copy("columns_update", columns, n)
            cursor.execute(f"UPDATE {table} SET {sets} FROM columns_update x WHERE {table}.{key} = x.{key}")
            cursor.execute("DROP TABLE columns_update")
        else:
            others = [c for c in columns if c.name != key]
            rows = _python_rows([*others, next(c for c in columns if c.name == key)], n)
            cursor.executemany(f"UPDATE {table} SET {', '.join(f'{c.name} = %s' for c in others)} WHERE {key} = %s",
                               rows)
    return n


def rows_delete(table: str, key: str, values: np.ndarray) -> int:
    """Delete the rows whose `key` column holds one of these values."""
    if len(values) == 0:
        return 0
    from server.common.sql import in_ids

    where, params = in_ids(key, values.tolist())
    if connection.vendor == "postgresql":
        _pg_execute(f"DELETE FROM {table} WHERE {key} = ANY(%s::int8[])", [Int8Array(values)])
        return len(values)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
    return len(values)
