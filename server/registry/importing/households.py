"""households_import: a register file (CSV or XLSX) into households and residents. See docs/import.md."""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

from django.db import transaction
from tqdm import tqdm

from server.common.sql import tables_analyze
from server.registry.importing.columns import COLUMNS, header_map
from server.registry.importing.reading import register_file_open
from server.registry.importing.report import ImportResult, report_default_path, report_write
from server.registry.importing.validation import NOTICE, Problem, RowChecker, lookups_load
from server.registry.importing.writing import OPTIONAL_FIELDS, HouseholdWriter, household_writer_open

BATCH = 50_000
PROGRESS_MIN_BYTES = 2 << 20  # no bar for small files: it would only flash
THREADED_MIN_BYTES = 2 << 20  # below this, writing alongside reading gains nothing worth a thread


class _Progress:
    """A tqdm bar on stderr over the file (bytes of a CSV, rows of an XLSX) and one line per later phase."""

    def __init__(self, *, enabled: bool, total: int, unit: str):
        self.bar = tqdm(total=total, unit=unit, unit_scale=True, desc="导入 importing", file=sys.stderr,
                        disable=not enabled, dynamic_ncols=True, mininterval=0.5)
        self.enabled = enabled
        self.done = 0

    def advance(self, position: int) -> None:
        self.bar.update(max(position - self.done, 0))
        self.done = max(position, self.done)

    def phase(self, text: str) -> None:
        if self.enabled:
            self.bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


class _Pipeline:
    """Runs the writer's calls in order, on a worker thread when `threaded`, so the database writes one chunk
    while Python reads and checks the next (two cores: one each). The worker uses the caller's connection and
    transaction; the caller does not touch the database until `close`."""

    def __init__(self, *, writer: HouseholdWriter, threaded: bool):
        self.writer = writer
        self.error: BaseException | None = None
        self.thread = None
        if threaded:
            self.queue: queue.Queue = queue.Queue(maxsize=2)
            writer.connection.inc_thread_sharing()
            self.thread = threading.Thread(target=self._run, name="households-import-writer", daemon=True)
            self.thread.start()

    def submit(self, call, rows: list[tuple]) -> None:
        if self.error is not None:
            raise self.error
        if self.thread is None:
            call(rows)
        else:
            self.queue.put((call, rows))

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    item[0](item[1])
                except BaseException as exc:  # handed to the caller's thread in submit() or close()
                    self.error = exc

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.writer.connection.dec_thread_sharing()
            self.thread = None
        if self.error is not None:
            raise self.error


def households_import(
    *,
    path: str | Path,
    strict: bool = False,
    dry_run: bool = False,
    report_path: str | Path | None = None,
    progress: bool = True,
) -> ImportResult:
    """Import a household register: every row checked, good rows written in one transaction.

    Households are matched by register id: new ones created, known ones updated, none duplicated. When the file has
    resident columns, the residents of each household in the file are replaced by the file's. Each household gets
    the grid cell containing its point (or none: listed as outside every cell). With `strict`, one bad row means
    nothing is written; with `dry_run`, nothing is written and the result says what would have been. Problems go
    to a CSV report (`report_path`; by default var/import-reports/, written when there are any).

    Raises ImportFileError when the file as a whole cannot be read (format, encoding, missing columns).
    """
    started = time.monotonic()
    source = register_file_open(path=Path(path))
    try:
        header = header_map(source.header)
        kind = "XLSX" if source.kind == "xlsx" else f"CSV, {source.encoding}"
        result = ImportResult(path=source.path, file_kind=kind, strict=strict, dry_run=dry_run,
                              has_residents=header.has_residents, ignored_columns=header.ignored)
        checker = RowChecker(header=header, lookups=lookups_load())
        present = {f for f in (*OPTIONAL_FIELDS, "size", "address") if header.has(f)}
        if all(header.has(f) for f in ("street", "building", "unit", "room")):
            present.add("address")
        bar = _Progress(enabled=progress and (source.kind == "xlsx" or source.size >= PROGRESS_MIN_BYTES),
                        total=source.size, unit="B" if source.kind == "csv" else "行")
        try:
            with transaction.atomic():
                writer = household_writer_open(has_residents=header.has_residents, present=present,
                                               dry_run=dry_run)
                _constraints_immediate(writer, True)
                threaded = writer.streaming and source.kind == "csv" and source.size >= THREADED_MIN_BYTES
                pipeline = _Pipeline(writer=writer, threaded=threaded)
                try:
                    _rows_read(source=source, checker=checker, writer=writer, pipeline=pipeline, result=result,
                               bar=bar)
                finally:
                    pipeline.close()
                # Strict and a bad row: whatever was written so far goes with the rollback below.
                refused = strict and bool(result.errors)
                if not refused:
                    bar.phase("写入 writing …")
                    writer.finish()
                    _result_fill(result=result, writer=writer, dry_run=dry_run)
                _constraints_immediate(writer, False)
                writer.close()
                if refused or dry_run:
                    transaction.set_rollback(True)
        finally:
            bar.close()
    finally:
        source.close()
    result.written = not dry_run and not (strict and result.errors)
    if result.written:
        tables_analyze(["registry_household", "registry_resident", "registry_resident_key_groups"])
    if report_path is not None or result.problems:
        target = Path(report_path) if report_path is not None else report_default_path(source=source.path)
        result.report_path = report_write(path=target, problems=result.problems)
    result.seconds = time.monotonic() - started
    return result


def _constraints_immediate(writer: HouseholdWriter, on: bool) -> None:
    # PostgreSQL checks Django's deferred foreign keys at commit, one by one, after all the work: checked per
    # statement instead, they are done chunk by chunk while the file is still being read.
    if writer._pg and writer.streaming:
        writer.cursor.execute(f"SET CONSTRAINTS ALL {'IMMEDIATE' if on else 'DEFERRED'}")


def _rows_read(*, source, checker: RowChecker, writer: HouseholdWriter, pipeline: _Pipeline, result: ImportResult,
               bar: _Progress) -> None:
    """Check every row; hand accepted households and residents to the writer in batches."""
    households: list[tuple] = []
    residents: list[tuple] = []
    problems = result.problems
    check = checker.check
    read = rejected = 0
    for number, row in source.rows:
        if not any(row) or not any(v.strip() for v in row):
            continue  # blank line (Excel leaves some at the end)
        read += 1
        household, resident, row_problems = check(number, row)
        if row_problems:
            problems.extend(row_problems)
            rejected += 1
            continue
        if household is not None:
            households.append(household)
            if len(households) >= BATCH:
                pipeline.submit(writer.households_add, households)
                households = []
                bar.advance(source.position())
        if resident is not None:
            residents.append(resident)
            if len(residents) >= BATCH:
                pipeline.submit(writer.residents_add, residents)
                residents = []
    if households:
        pipeline.submit(writer.households_add, households)
    if residents:
        pipeline.submit(writer.residents_add, residents)
    bar.advance(source.size)
    result.rows_read, result.rows_rejected = read, rejected


def _result_fill(*, result: ImportResult, writer: HouseholdWriter, dry_run: bool) -> None:
    result.households_created, result.households_updated = writer.created, writer.updated
    result.households_unchanged = writer.unchanged
    result.residents_created, result.residents_removed = writer.residents_created, writer.residents_removed
    for line, rid, lon, lat in writer.outside:
        result.outside_cells.append(rid)
        result.problems.append(Problem(
            line, rid, COLUMNS["lon"].label, f"{lon},{lat}",
            "不在任何网格内：" + ("将导入" if dry_run else "已导入") + "，未分配网格",
            "outside every grid cell: " + ("would be imported" if dry_run else "imported") + " with no cell",
            level=NOTICE,
        ))
