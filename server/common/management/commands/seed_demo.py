"""`manage.py seed_demo`: load the synthetic Chuzhou (see docs/demo.md)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from server.common.demo.generate import (
    DEFAULT_HOUSEHOLDS,
    DEFAULT_PASSWORD,
    MIN_HOUSEHOLDS,
    demo_city_delete,
    demo_city_exists,
    demo_city_seed,
    summary_lines,
)
from server.common.sql import tables_analyze


class Command(BaseCommand):
    help = "Load a deterministic synthetic Chuzhou (滁州市 341100): territory, register, stations, demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS,
                            help=f"number of households (default {DEFAULT_HOUSEHOLDS}; city scale 1400000)")
        parser.add_argument("--seed", type=int, default=1, help="random seed; same seed + households = same data")
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"password of every demo-* account (default {DEFAULT_PASSWORD})")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true",
                           help="do nothing when the demo city is already there")
        group.add_argument("--reset", action="store_true",
                           help="delete city 341100 with everything under it and the demo-* accounts first")

    def handle(self, *args, households, seed, password, if_empty, reset, verbosity, **options):
        if households < MIN_HOUSEHOLDS:
            raise CommandError(f"--households 至少为 {MIN_HOUSEHOLDS} / must be at least {MIN_HOUSEHOLDS}.")
        if not password:
            raise CommandError("--password 不能为空 / must not be empty.")
        progress = sys.stderr if verbosity >= 1 else None
        present = demo_city_exists()
        if present and if_empty:
            self.stdout.write("演示城市已存在，未做改动 / The demo city (341100) is already there; nothing done.")
            return
        if present and not reset:
            raise CommandError(
                "数据库中已有滁州市 (341100) 或 demo-* 账号。/ City 341100 or demo-* accounts already exist.\n"
                "  --if-empty  保留现有数据 / keep them and do nothing\n"
                "  --reset     删除后重新生成 / delete them and seed again"
            )
        # One transaction: a reset whose seeding fails leaves the old demo city in place.
        with transaction.atomic():
            if present:
                self._delete(progress)
            try:
                summary = demo_city_seed(households=households, seed=seed, password=password, progress=progress)
            except IntegrityError as exc:
                raise CommandError(
                    f"与现有数据冲突 / Conflicts with existing data ({exc}). Codes 3411… or demo-* names are taken; "
                    "use a fresh database."
                ) from exc
        tables_analyze(["territory_area", "territory_gridcell", "registry_household", "registry_resident",
                        "registry_resident_key_groups", "registry_keyplace", "campaigns_cellassignment",
                        "visits_visit", "visits_householdroundstate"])
        for line in summary_lines(summary):
            self.stdout.write(line)

    def _delete(self, progress) -> None:
        try:
            deleted = demo_city_delete(progress=progress)
        except (ProtectedError, RestrictedError) as exc:
            blocking = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
            models = sorted({str(obj._meta.verbose_name_plural) for obj in blocking})
            raise CommandError(
                "无法删除：其他数据引用了演示城市 / Cannot reset: other records point at the demo city "
                f"({', '.join(models) or exc}). Delete those first or use a fresh database."
            ) from exc
        self.stdout.write(f"已删除演示城市 / Deleted the demo city ({deleted} households).")
