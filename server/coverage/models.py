"""Coverage aggregates: figures per grid cell, kept current after every push and rebuilt in full at night.

Every table is keyed by (campaign, round, cell, ...). `round` NULL means the campaign as a whole (a household
counts as reached if any round of the campaign reached it). Area figures (community … city) are sums of cell
rows, read at request time; nothing above the cell is stored. The definitions are in docs/coverage.md; the rows
are computed in numpy by server/coverage/compute.py from the raw rows (server/coverage/tables.py reads them and
writes only the rows that differ), one code path for the incremental refresh (a few cells) and the full recompute
(every cell).

Foreign keys carry no index of their own: the unique constraints (round, cell, …) and (campaign, cell, …) serve the
reads and the per-cell deletes, and every extra index would slow the full recompute's inserts. Nor a constraint in
the database (`db_constraint=False`): the rows are derived, rewritten after every push, and each row's deferred
foreign-key checks ran at commit, a lookup and a row lock per key (5 ms of a refresh at city scale). Deleting a
campaign, round, cell, worker or key group still deletes their rows (Django's on_delete), and a full recompute
rewrites them all.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


def _unique_per_scope(*fields: str, name: str) -> list[models.UniqueConstraint]:
    """One row per key in a round, and one per key for the campaign as a whole (round NULL)."""
    return [
        models.UniqueConstraint(fields=["round", *fields], condition=Q(round__isnull=False), name=f"{name}_round"),
        models.UniqueConstraint(fields=["campaign", *fields], condition=Q(round__isnull=True),
                                name=f"{name}_campaign"),
    ]


class _CellRow(models.Model):
    """The key every aggregate row starts with: campaign, round (NULL: the campaign as a whole), grid cell."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False,
                                 db_constraint=False)
    round = models.ForeignKey("campaigns.Round", null=True, on_delete=models.CASCADE, related_name="+", db_index=False,
                              db_constraint=False)
    cell = models.ForeignKey("territory.GridCell", on_delete=models.CASCADE, related_name="+", db_index=False,
                             db_constraint=False)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.cell_id}@{self.round_id or f'campaign {self.campaign_id}'}"


class CellCoverage(_CellRow):
    """Household figures of one cell in a round (or the whole campaign)."""

    to_visit = models.PositiveIntegerField("应访户数 households to visit", default=0)
    attempted = models.PositiveIntegerField("已走访户数 attempted", default=0)
    reached = models.PositiveIntegerField("见面户数 reached face to face", default=0)
    nobody_home = models.PositiveIntegerField("无人在家 nobody home", default=0)
    refused = models.PositiveIntegerField("拒访 refused", default=0)
    excluded = models.PositiveIntegerField("空置/搬离/地址有误 excluded", default=0)
    vacant = models.PositiveIntegerField("其中空置 of which vacant", default=0)
    app_installs = models.PositiveIntegerField("安装反诈APP户数 app installs", default=0)
    visits = models.PositiveIntegerField("走访次数 visits", default=0)
    flagged_visits = models.PositiveIntegerField("GPS/时钟存疑走访 flagged visits", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "网格覆盖"
        verbose_name_plural = "网格覆盖 cell coverage"
        constraints = _unique_per_scope("cell", name="cellcoverage")


class CellKeyGroupCoverage(_CellRow):
    """Residents of one key group in one cell: in the households to visit, and in those reached."""

    key_group = models.ForeignKey("registry.KeyGroup", on_delete=models.CASCADE, related_name="+", db_index=False,
                                  db_constraint=False)
    residents = models.PositiveIntegerField("应访人数 residents to reach", default=0)
    reached = models.PositiveIntegerField("见面户中人数 residents in reached households", default=0)

    class Meta:
        verbose_name = "重点人群覆盖"
        verbose_name_plural = "重点人群覆盖 key-group coverage"
        constraints = _unique_per_scope("cell", "key_group", name="cellkeygroup")


class CellDayCoverage(_CellRow):
    """Households of one cell first reached on one day (Asia/Shanghai)."""

    day = models.DateField("日期 day")
    reached_new = models.PositiveIntegerField("新见面户数 newly reached", default=0)

    class Meta:
        verbose_name = "每日见面"
        verbose_name_plural = "每日见面 reached by day"
        constraints = _unique_per_scope("cell", "day", name="cellday")


class CellWorkerCoverage(_CellRow):
    """One worker's work in one cell: visits; distinct households visited, reached, helped to install the app."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False,
                               db_constraint=False)
    visits = models.PositiveIntegerField("走访次数 visits", default=0)
    households_attempted = models.PositiveIntegerField("走访户数 households attempted", default=0)
    households_reached = models.PositiveIntegerField("见面户数 households reached", default=0)
    app_installs = models.PositiveIntegerField("安装反诈APP户数 app installs", default=0)
    flagged_visits = models.PositiveIntegerField("GPS/时钟存疑走访 flagged visits", default=0)

    class Meta:
        verbose_name = "网格员工作量"
        verbose_name_plural = "网格员工作量 worker figures"
        constraints = _unique_per_scope("cell", "worker", name="cellworker")


class CellWorkerDay(_CellRow):
    """One worker's visits in one cell on one day (Asia/Shanghai): active days, visits per day, daily visits."""

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False,
                               db_constraint=False)
    day = models.DateField("日期 day")
    visits = models.PositiveIntegerField("走访次数 visits", default=0)
    flagged_visits = models.PositiveIntegerField("GPS/时钟存疑走访 flagged visits", default=0)

    class Meta:
        verbose_name = "网格员每日走访"
        verbose_name_plural = "网格员每日走访 worker visits by day"
        constraints = _unique_per_scope("cell", "worker", "day", name="cellworkerday")


AGGREGATES = [CellCoverage, CellKeyGroupCoverage, CellDayCoverage, CellWorkerCoverage, CellWorkerDay]


class DirtyCell(models.Model):
    """A cell whose figures in a round are behind its visits: queued by the refresh after a push, emptied by
    `coverage_dirty_refresh`, which recomputes many cells at a time (a refresh costs tens of milliseconds for one
    cell or for fifty, so one refresh a second serves hundreds of single-visit pushes)."""

    round = models.ForeignKey("campaigns.Round", on_delete=models.CASCADE, related_name="+", db_index=False,
                              db_constraint=False)
    cell = models.ForeignKey("territory.GridCell", on_delete=models.CASCADE, related_name="+", db_index=False,
                             db_constraint=False)
    seq = models.PositiveBigIntegerField(default=0, help_text="bumped by every push queued meanwhile")
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "待刷新网格"
        verbose_name_plural = "待刷新网格 cells waiting for a refresh"
        constraints = [models.UniqueConstraint(fields=["round", "cell"], name="dirtycell_once")]

    def __str__(self) -> str:
        return f"{self.cell_id}@{self.round_id}"
