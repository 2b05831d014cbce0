"""Set-based writing of checked register rows: staged in temporary tables, then written by a few statements.

Per chunk of households: stage them (PostGIS: COPY through psycopg 3; SpatiaLite: executemany), find their cells
in one statement (registry.services.grid_cells_match_sql), then one UPDATE of the known households that changed and
one INSERT of the new ones. Each household is written once, with its cell; unchanged ones are not written at all.
A file without resident columns is written chunk by chunk while the next chunk is read (see households.py); with
residents, the households are written once at the end, when every household's residents are known.
"""

from __future__ import annotations

import struct

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from server.registry.models import Resident
from server.registry.services import grid_cells_match_sql

HOUSEHOLD_STAGE_COLUMNS = (
    "line", "register_id", "community_id", "street", "building", "unit", "floor", "room", "address",
    "lon", "lat", "status", "size",
)
RESIDENT_STAGE_COLUMNS = (
    "line", "register_id", "name", "sex", "birth_year", "phone_cipher", "phone_masked", "id_hash", "id_last4",
    "key_group_ids",
)
# Household fields a file may leave out: a column missing from the file leaves existing households' value alone.
# (The address counts as present when the file has it or every part it is composed of.)
OPTIONAL_FIELDS = {"street": "''", "building": "''", "unit": "''", "floor": "CAST(NULL AS SMALLINT)", "room": "''",
                   "status": "'occupied'"}
PG_SETTINGS = ("work_mem", "maintenance_work_mem", "enable_hashjoin", "enable_mergejoin")
HOUSEHOLD_FIELDS = ("register_id", "community_id", "street", "building", "unit", "floor", "room", "address",
                    "location", "cell_id", "status", "size")
_EWKB_POINT_4326 = "0101000020E6100000"
_pack_xy = struct.Struct("<dd").pack


class HouseholdWriter:
    """Stages and writes one import's rows inside the caller's transaction; counts what it did.

    `present`: the optional household fields the file has. `dry_run`: count only, write nothing.
    """

    def __init__(self, *, connection, has_residents: bool, present: set[str], dry_run: bool):
        self.connection = connection
        self.has_residents = has_residents
        self.present = present
        self.dry_run = dry_run
        self.streaming = not has_residents
        self.created = self.updated = self.unchanged = self.staged = 0
        self.residents_created = self.residents_removed = 0
        self.outside: list[tuple[int, str, float, float]] = []  # (row, register id, lon, lat)
        self.cursor = connection.cursor()
        self._create()
        # A first import into an empty register (a city's initial load) has no known household to look up.
        self.register_was_empty = not self._scalar("SELECT EXISTS (SELECT 1 FROM registry_household)")

    # Backend parts ------------------------------------------------------------------------------------------
    def _create(self) -> None:
        raise NotImplementedError

    def _households_stage(self, rows: list[tuple]) -> None:
        raise NotImplementedError

    def residents_add(self, rows: list[tuple]) -> None:
        raise NotImplementedError

    def _resident_ids_assign(self) -> None:
        raise NotImplementedError

    def _key_groups_insert(self) -> None:
        raise NotImplementedError

    def _stage_clear(self) -> None:
        self.cursor.execute("DELETE FROM import_household")

    def _prepare(self) -> None:
        """Make the staged points ready for the cell join."""

    @property
    def _pg(self) -> bool:
        return self.connection.vendor == "postgresql"

    # Flow ---------------------------------------------------------------------------------------------------
    def households_add(self, rows: list[tuple]) -> None:
        """Stage household rows; when streaming, write them now."""
        if self.streaming:
            self._stage_clear()
            self.staged = 0
        self._households_stage(rows)
        self.staged += len(rows)
        if self.streaming:
            self._households_process()

    def finish(self) -> None:
        """Write what is staged: the households (unless streamed already), then the residents."""
        if not self.streaming:
            if self.has_residents:
                self._sizes_from_residents()
            self._households_process()
        if not self.has_residents:
            return
        if self.dry_run:
            self.residents_created = self._scalar("SELECT count(*) FROM import_resident")
            self.residents_removed = self._scalar(
                "SELECT count(*) FROM import_household s JOIN registry_household h ON h.register_id = s.register_id "
                "JOIN registry_resident x ON x.household_id = h.id"
            )
            return
        self.residents_created = self._residents_write()

    def close(self) -> None:
        for table in ("import_cell", "import_resident", "import_household"):
            self.cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self._settings_restore()
        self.cursor.close()

    def _settings_restore(self) -> None:
        """Undo the session settings changed for the import (they would outlive it in the caller's transaction)."""

    # Shared -------------------------------------------------------------------------------------------------
    def _scalar(self, sql: str, params=()) -> int:
        self.cursor.execute(sql, params)
        row = self.cursor.fetchone()
        return (row[0] or 0) if row else 0

    def _households_process(self) -> None:
        """Cells, counts, and (unless a dry run) residents' removal and the household write of what is staged."""
        self._prepare()
        match = grid_cells_match_sql(table="import_household", key="line")
        self.cursor.execute("DROP TABLE IF EXISTS import_cell")
        self.cursor.execute(f"CREATE TEMP TABLE import_cell AS {match}")
        self.cursor.execute("CREATE INDEX import_cell_key ON import_cell (key)")
        self.cursor.execute(
            "SELECT s.line, s.register_id, s.lon, s.lat FROM import_household s "
            "LEFT JOIN import_cell c ON c.key = s.line WHERE c.key IS NULL ORDER BY s.line"
        )
        self.outside.extend(self.cursor.fetchall())
        new, updated = self._households_source()
        differ = self._differ([f"registry_household.{f}" for f in updated], [f"n.{f}" for f in updated])
        absent = "NOT EXISTS (SELECT 1 FROM registry_household h WHERE h.register_id = n.register_id)"
        probing = not self.register_was_empty or self.dry_run
        self._index_probes(probing)
        if self.dry_run:
            created = self._scalar(f"SELECT count(*) FROM ({new}) n WHERE {absent}")
            changed = self._scalar(
                f"SELECT count(*) FROM ({new}) n JOIN registry_household ON registry_household.register_id = "
                f"n.register_id WHERE {differ}"
            )
        else:
            if self.has_residents:
                self.residents_removed += self._residents_remove()
            now = self.connection.ops.adapt_datetimefield_value(timezone.now())
            # Changed households first, then new ones. No INSERT ... ON CONFLICT DO UPDATE: it locks (and so
            # writes) every known row even when nothing changed, which made re-importing a city as slow as
            # importing it. The DO NOTHING only guards against a concurrent import of the same register id.
            changed = 0
            if not self.register_was_empty:
                self.cursor.execute(
                    f"UPDATE registry_household SET {', '.join(f'{f} = n.{f}' for f in updated)}, updated_at = %s "
                    f"FROM ({new}) n WHERE registry_household.register_id = n.register_id AND {differ}",
                    [now],
                )
                changed = self.cursor.rowcount
            columns = ", ".join(HOUSEHOLD_FIELDS)
            self.cursor.execute(
                f"INSERT INTO registry_household ({columns}, created_at, updated_at) "
                f"SELECT {', '.join(f'n.{f}' for f in HOUSEHOLD_FIELDS)}, %s, %s FROM ({new}) n "
                f"WHERE {'1=1' if self.register_was_empty else absent} ORDER BY n.line "
                "ON CONFLICT (register_id) DO NOTHING",
                [now, now],
            )
            created = self.cursor.rowcount
        self._index_probes(False)
        self.created += created
        self.updated += changed
        self.unchanged += self.staged - created - changed

    def _index_probes(self, on: bool) -> None:
        """Join staged rows to the register by probing its register-id index, row by row (PostGIS only)."""

    def _sizes_from_residents(self) -> None:
        """A blank size becomes the number of residents the file lists for the household."""
        self.cursor.execute(
            "UPDATE import_household SET size = r.n "
            "FROM (SELECT register_id, count(*) AS n FROM import_resident GROUP BY register_id) AS r "
            "WHERE import_household.register_id = r.register_id AND import_household.size IS NULL"
        )

    def _households_source(self) -> tuple[str, list[str]]:
        """A SELECT of the staged households as they are to be stored (plus `line`), and the columns that an
        update of a known household sets."""
        values = {
            "register_id": "s.register_id", "community_id": "s.community_id", "address": "s.address",
            "location": "s.location" if self._pg else "MakePoint(s.lon, s.lat, 4326)", "cell_id": "c.cell_id",
            "size": "CAST(COALESCE(s.size, 1) AS SMALLINT)",
        }
        for field, default in OPTIONAL_FIELDS.items():
            values[field] = f"s.{field}" if field in self.present else default
        updated = ["community_id", "location", "cell_id"]
        updated += [f for f in (*OPTIONAL_FIELDS, "address") if f in self.present]
        if "size" in self.present or self.has_residents:
            updated.append("size")
        select = ", ".join(f"{values[f]} AS {f}" for f in HOUSEHOLD_FIELDS)
        return f"SELECT s.line, {select} FROM import_household s LEFT JOIN import_cell c ON c.key = s.line", updated

    def _differ(self, old: list[str], new: list[str]) -> str:
        return f"({', '.join(old)}) {'IS DISTINCT FROM' if self._pg else 'IS NOT'} ({', '.join(new)})"

    def _residents_remove(self) -> int:
        """Delete the residents of households in the file (the file's residents replace them)."""
        self.cursor.execute(
            "SELECT h.id FROM import_household s JOIN registry_household h ON h.register_id = s.register_id"
        )
        ids = [r[0] for r in self.cursor.fetchall()]
        removed = 0
        for start in range(0, len(ids), 2000):
            # Through the ORM, so that whatever points at a resident (key groups, other apps) follows its own rules.
            deleted = Resident.objects.filter(household_id__in=ids[start:start + 2000]).delete()[1]
            removed += deleted.get(Resident._meta.label, 0)
        return removed

    def _residents_write(self) -> int:
        """Insert the staged residents (with their key groups) into their households; return how many."""
        self._resident_ids_assign()
        self.cursor.execute(
            "INSERT INTO registry_resident (id, household_id, name, sex, birth_year, phone_cipher, phone_masked, "
            "id_hash, id_last4) SELECT r.id, h.id, r.name, r.sex, r.birth_year, r.phone_cipher, r.phone_masked, "
            "r.id_hash, r.id_last4 FROM import_resident r JOIN registry_household h ON h.register_id = r.register_id "
            "ORDER BY r.line"
        )
        written = self.cursor.rowcount
        self._key_groups_insert()
        return written


class PostgisWriter(HouseholdWriter):
    def _create(self) -> None:
        cur = self.cursor
        for table in ("import_cell", "import_resident", "import_household"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("SELECT current_setting('work_mem'), current_setting('maintenance_work_mem'), "
                    "current_setting('enable_hashjoin'), current_setting('enable_mergejoin')")
        self.saved = dict(zip(PG_SETTINGS, cur.fetchone(), strict=True))
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cur.execute(
            "CREATE TEMP TABLE import_household (line integer, register_id text, community_id bigint, street text, "
            "building text, unit text, floor smallint, room text, address text, lon double precision, "
            "lat double precision, status text, size smallint, location geometry(Point, 4326)) ON COMMIT DROP"
        )
        if self.has_residents:
            cur.execute("SELECT pg_get_serial_sequence('registry_resident', 'id')")
            sequence = cur.fetchone()[0]
            cur.execute(
                "CREATE TEMP TABLE import_resident (line integer, register_id text, name text, sex text, "
                "birth_year smallint, phone_cipher text, phone_masked text, id_hash text, id_last4 text, "
                f"key_group_ids bigint[], id bigint DEFAULT nextval('{sequence}')) ON COMMIT DROP"
            )

    def _stage_clear(self) -> None:
        self.cursor.execute("DROP INDEX IF EXISTS import_household_location")
        self.cursor.execute("TRUNCATE import_household")

    def _households_stage(self, rows: list[tuple]) -> None:
        columns = ", ".join((*HOUSEHOLD_STAGE_COLUMNS, "location"))
        with self.cursor.copy(f"COPY import_household ({columns}) FROM STDIN") as copy:
            write, pack = copy.write_row, _pack_xy
            for row in rows:
                write((*row, _EWKB_POINT_4326 + pack(row[9], row[10]).hex()))

    def residents_add(self, rows: list[tuple]) -> None:
        with self.cursor.copy(f"COPY import_resident ({', '.join(RESIDENT_STAGE_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _prepare(self) -> None:
        # Built once the rows are in (a bulk build is far cheaper than growing it row by row). Statistics are not
        # needed: a spatial join has no plan other than a nested loop, and this index makes it the fast one.
        self.cursor.execute("CREATE INDEX import_household_location ON import_household USING gist (location)")

    def _index_probes(self, on: bool) -> None:
        # Staged chunks are small next to a city's register, but the table's statistics are often stale right after
        # a bulk load, and a hash join would then read the whole register once per chunk and statement: quadratic.
        for name in ("enable_hashjoin", "enable_mergejoin"):
            self.cursor.execute(f"SELECT set_config('{name}', %s, true)", ["off" if on else self.saved[name]])

    def _settings_restore(self) -> None:
        for name, value in self.saved.items():
            self.cursor.execute("SELECT set_config(%s, %s, true)", [name, value])

    def _resident_ids_assign(self) -> None:
        """Ids came from the table's own sequence when the rows were staged (the column default)."""

    def _key_groups_insert(self) -> None:
        self.cursor.execute(
            "INSERT INTO registry_resident_key_groups (resident_id, keygroup_id) "
            "SELECT r.id, unnest(r.key_group_ids) FROM import_resident r "
            "JOIN registry_resident x ON x.id = r.id WHERE r.key_group_ids IS NOT NULL"
        )


class SpatialiteWriter(HouseholdWriter):
    def _create(self) -> None:
        cur = self.cursor
        for table in ("import_cell", "import_resident", "import_household"):
            cur.execute(f"DROP TABLE IF EXISTS temp.{table}")
        cur.execute(
            "CREATE TEMP TABLE import_household (line INTEGER PRIMARY KEY, register_id TEXT, community_id INTEGER, "
            "street TEXT, building TEXT, unit TEXT, floor INTEGER, room TEXT, address TEXT, lon REAL, lat REAL, "
            "status TEXT, size INTEGER)"
        )
        if self.has_residents:
            cur.execute(
                "CREATE TEMP TABLE import_resident (line INTEGER PRIMARY KEY, register_id TEXT, name TEXT, sex TEXT, "
                "birth_year INTEGER, phone_cipher TEXT, phone_masked TEXT, id_hash TEXT, id_last4 TEXT, "
                "key_group_ids TEXT, id INTEGER)"
            )

    def _households_stage(self, rows: list[tuple]) -> None:
        marks = ", ".join(["%s"] * len(HOUSEHOLD_STAGE_COLUMNS))
        self.cursor.executemany(
            f"INSERT INTO import_household ({', '.join(HOUSEHOLD_STAGE_COLUMNS)}) VALUES ({marks})", rows
        )

    def residents_add(self, rows: list[tuple]) -> None:
        marks = ", ".join(["%s"] * len(RESIDENT_STAGE_COLUMNS))
        self.cursor.executemany(
            f"INSERT INTO import_resident ({', '.join(RESIDENT_STAGE_COLUMNS)}) VALUES ({marks})",
            [(*r[:-1], ",".join(map(str, r[-1])) if r[-1] else None) for r in rows],
        )

    def _resident_ids_assign(self) -> None:
        # Take the database's write lock first (a write that changes nothing is enough): nobody else can then take
        # these ids before they are inserted.
        self.cursor.execute("DELETE FROM registry_resident WHERE 0")
        base = self._scalar(
            "SELECT max(coalesce((SELECT max(id) FROM registry_resident), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'registry_resident'), 0))"
        )
        self.cursor.execute("UPDATE import_resident SET id = %s + line", [base])

    def _key_groups_insert(self) -> None:
        self.cursor.execute(
            "INSERT INTO registry_resident_key_groups (resident_id, keygroup_id) "
            "SELECT r.id, CAST(j.value AS INTEGER) FROM import_resident r "
            "JOIN registry_resident x ON x.id = r.id, json_each('[' || r.key_group_ids || ']') j "
            "WHERE r.key_group_ids IS NOT NULL"
        )


def household_writer_open(*, has_residents: bool, present: set[str], dry_run: bool) -> HouseholdWriter:
    """A writer on this thread's default database connection (PostGIS or SpatiaLite); it may be handed to a worker
    thread (see households.py), so it holds the connection object itself, not Django's per-thread proxy."""
    connection = connections[DEFAULT_DB_ALIAS]
    cls = PostgisWriter if connection.vendor == "postgresql" else SpatialiteWriter
    return cls(connection=connection, has_residents=has_residents, present=present, dry_run=dry_run)
