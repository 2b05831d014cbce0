"""Campaigns (敲门行动), their outcome codes, sweep rounds and the assignment of grid cells to teams or workers.

The households a round must visit are derived from the register and the visits (see selectors), never copied.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Campaign(models.Model):
    name = models.CharField("名称 name", max_length=120)
    description = models.TextField("说明 description", blank=True)
    areas = models.ManyToManyField("territory.Area", verbose_name="范围 scope", related_name="campaigns")
    starts_on = models.DateField("开始日期 start date")
    ends_on = models.DateField("结束日期 end date")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人 created by", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "敲门行动"
        verbose_name_plural = "敲门行动 campaigns"
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name


class OutcomeCode(models.Model):
    """One way a visit can end. `reached` counts toward coverage; `revisit` puts the household into the next round;
    `excluded` takes it out of the households to visit (vacant, moved)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="outcome_codes")
    code = models.SlugField("代码 code", max_length=32)
    label = models.CharField("名称 label", max_length=40)
    label_en = models.CharField("英文名 English label", max_length=40, blank=True)
    reached = models.BooleanField("计为见面 counts as reached", default=False)
    revisit = models.BooleanField("下轮再访 back into next round", default=False)
    excluded = models.BooleanField("不计入应访 excluded from households to visit", default=False)
    order = models.PositiveSmallIntegerField("顺序 order", default=0)
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "走访结果"
        verbose_name_plural = "走访结果 outcome codes"
        ordering = ["campaign_id", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="outcome_code_unique_per_campaign")]

    def __str__(self) -> str:
        return self.label


class RoundStatus(models.TextChoices):
    DRAFT = "draft", "筹备 draft"
    OPEN = "open", "进行中 open"
    CLOSED = "closed", "已结束 closed"


class Round(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name="敲门行动 campaign", on_delete=models.CASCADE,
                                 related_name="rounds")
    number = models.PositiveSmallIntegerField("轮次 number")
    starts_on = models.DateField("开始 starts on")
    ends_on = models.DateField("结束 ends on")
    status = models.CharField("状态 status", max_length=10, choices=RoundStatus.choices, default=RoundStatus.DRAFT)
    opened_at = models.DateTimeField("开启时间 opened at", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间 closed at", null=True, blank=True)
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "轮次"
        verbose_name_plural = "轮次 rounds"
        ordering = ["campaign_id", "number"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="round_number_unique")]

    def __str__(self) -> str:
        return f"{self.campaign.name} 第{self.number}轮"

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


class CellAssignment(models.Model):
    """Who holds a grid cell in a round: a team, a single worker, or both (a worker of the team)."""

    class Source(models.TextChoices):
        PLAN = "plan", "规划 planned"
        AUTO = "auto", "自动分配 auto-assigned"
        CLAIM = "claim", "认领 claimed"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assignments")
    cell = models.ForeignKey("territory.GridCell", on_delete=models.CASCADE, related_name="assignments")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="assignments")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="cell_assignments")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.PLAN)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "网格分配"
        verbose_name_plural = "网格分配 cell assignments"
        constraints = [models.UniqueConstraint(fields=["round", "cell"], name="one_holder_per_cell_and_round")]
        indexes = [models.Index(fields=["round", "team"]), models.Index(fields=["round", "worker"])]

    def __str__(self) -> str:
        return f"{self.cell_id} → {self.team or self.worker}"


class AssignmentChange(models.Model):
    """Every change of who holds a cell: who, when, why. Append-only."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assignment_changes")
    cell = models.ForeignKey("territory.GridCell", on_delete=models.CASCADE, related_name="+")
    from_team = models.ForeignKey("accounts.Team", null=True, on_delete=models.SET_NULL, related_name="+")
    from_worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    to_team = models.ForeignKey("accounts.Team", null=True, on_delete=models.SET_NULL, related_name="+")
    to_worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField("原因 reason", max_length=200, blank=True)
    remaining_households = models.PositiveIntegerField("移交未访户数 households moved", default=0)

    class Meta:
        verbose_name = "分配变更"
        verbose_name_plural = "分配变更 assignment changes"
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.cell_id}: {self.from_team or self.from_worker} → {self.to_team or self.to_worker}"
