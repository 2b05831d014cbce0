"""The audit trail (审计日志): one append-only row per act that matters for residents' data or the campaign's record.

Who (a copy of the username and role, so the row outlives the account), when, what (action, object type and id,
what changed), where (the territory path, which scopes who may read the row), why (the reason given), and from where
(the request's IP address and device). Rows hold no phone numbers, ID numbers or resident names: an entry about a
phone reveal names the household and residents by id only.

Rows are never changed or deleted: the model refuses it, its QuerySet refuses it, and on PostgreSQL a trigger
refuses it too (migration 0002). Removing old rows is a database administrator's job (docs/privacy.md).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    CAMPAIGN_CREATE = "campaign.create", "新建行动 campaign created"
    ROUND_CREATE = "round.create", "新增轮次 round created"
    ROUND_EDIT = "round.edit", "修改轮次 round edited"
    ROUND_OPEN = "round.open", "开启轮次 round opened"
    ROUND_CLOSE = "round.close", "结束轮次 round closed"
    CELL_ASSIGN = "cell.assign", "分配网格 cell assigned"
    CELL_UNASSIGN = "cell.unassign", "收回网格 cell taken back"
    CELL_CLAIM = "cell.claim", "认领网格 cell claimed"
    VISIT_CORRECT = "visit.correct", "更正走访结果 visit outcome corrected"
    USER_CREATE = "user.create", "新建用户 user created"
    USER_CHANGE = "user.change", "修改用户（角色、区域、状态）user changed (role, areas, status)"
    USER_PASSWORD = "user.password", "重设密码 password set"
    DEVICE_REVOKE = "device.revoke", "吊销设备 device revoked"
    DEVICE_WIPED = "device.wiped", "设备已清除本地数据 device wiped its data"
    PHONE_REVEAL = "phone.reveal", "查看完整手机号 full phone revealed"
    EXPORT = "export", "导出 export"
    GPS_RETENTION = "gps.retention", "走访定位到期处理 visit GPS coarsened/purged"


class AppendOnly(Exception):
    """An audit entry may not be changed or deleted."""

    def __init__(self):
        super().__init__("审计日志只能追加，不能修改或删除 / Audit entries are append-only: never changed or deleted")


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly()

    def delete(self):
        raise AppendOnly()

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnly()


class AuditEntry(models.Model):
    at = models.DateTimeField("时间 when", default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField("操作人编号 actor id", null=True, blank=True, db_index=True)
    actor_username = models.CharField("操作人 who", max_length=150, blank=True, db_index=True)
    actor_role = models.CharField("操作人角色 role", max_length=32, blank=True)
    action = models.CharField("操作 action", max_length=32, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField("对象类型 object type", max_length=40, blank=True)
    object_id = models.CharField("对象编号 object id", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象 object", max_length=200, blank=True)
    territory_code = models.CharField("辖区代码 territory code", max_length=24, blank=True)
    territory_path = models.CharField("辖区路径 territory path", max_length=200, blank=True, db_index=True)
    changes = models.JSONField("变更内容 what changed", default=dict, blank=True)
    reason = models.CharField("原因 reason", max_length=300, blank=True)
    rows = models.PositiveIntegerField("导出行数 rows exported", null=True, blank=True)
    ip = models.GenericIPAddressField("IP 地址 IP address", null=True, blank=True)
    device_id = models.CharField("设备 device", max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志 audit trail"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or '系统 system'} {self.get_action_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly()
