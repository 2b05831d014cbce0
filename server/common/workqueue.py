"""Database work queues of (round, thing) pairs, drained by one worker at a time.

Two queues use this: the households whose round states are behind their visits (visits.StateQueue) and the cells
whose figures are behind their households' states (coverage.DirtyCell). A table has columns id, round_id,
<column>, seq, queued_at and a unique (round_id, <column>).

- `pairs_queue` adds pairs in the caller's transaction; a pair already queued gets its `seq` bumped, so a drainer
  that read the older seq knows the pair changed meanwhile.
- `queue_drain` takes the drainer's lock (or leaves at once if another drainer holds it: that one reads the queue
  again after letting go), reads a batch, does the work and deletes the rows whose seq is still the one read;
  one transaction a batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

Queued = tuple[int, int, int, int]  # id, round_id, thing id, seq


def pairs_queue(*, table: str, column: str, round_id: int, ids: list[int]) -> None:
    ids = sorted({int(i) for i in ids if i is not None})
    if not ids:
        return
    if connection.vendor == "postgresql":
        value, source, params = "c", "unnest(%s::bigint[]) AS c", [ids]
    else:
        value, source, params = "value", "json_each(%s)", [json.dumps(ids)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (round_id, {column}, seq, queued_at) SELECT %s, {value}, 0, %s "
            f"FROM {source} WHERE true "  # WHERE: SQLite's rule for INSERT … SELECT … ON CONFLICT
            f"ON CONFLICT (round_id, {column}) DO UPDATE SET seq = {table}.seq + 1",
            [round_id, timezone.now(), *params])


def queue_read(*, table: str, column: str, batch: int) -> list[Queued]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, round_id, {column}, seq FROM {table} ORDER BY id LIMIT %s", [batch])
        return [(r[0], r[1], r[2], r[3]) for r in cursor.fetchall()]


def queue_drop(*, table: str, queued: list[Queued]) -> None:
    """Delete the worked-off rows whose seq is still the one read."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"DELETE FROM {table} d USING unnest(%s::bigint[], %s::bigint[]) AS x(id, seq) "
                "WHERE d.id = x.id AND d.seq = x.seq", [[q[0] for q in queued], [q[3] for q in queued]])
        else:
            cursor.executemany(f"DELETE FROM {table} WHERE id = %s AND seq = %s", [(q[0], q[3]) for q in queued])


def by_round(queued: list[Queued]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for _, round_id, thing, _ in queued:
        out.setdefault(round_id, []).append(thing)
    return dict(sorted(out.items()))


def queue_drain(*, table: str, column: str, lock: Callable[[], bool], work: Callable[[list[Queued]], None],
                batch: int, passes: int) -> int:
    """Work off the queue, `batch` rows a transaction; returns the number of rows worked off."""
    done = 0
    for _ in range(passes):
        with transaction.atomic():
            if not lock():
                return done
            queued = queue_read(table=table, column=column, batch=batch)
            if queued:
                work(queued)
                queue_drop(table=table, queued=queued)
        done += len(queued)
        if not queued and not queue_read(table=table, column=column, batch=1):  # looked again after letting go
            return done
    return done
