"""Devices (one per user and phone, with a hashed token), the scope each pull sent to a device, and the household
reports phones make in the field (pending review; they never change the register by themselves)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone

# The per-household-per-round state lives in visits (server/visits/state.py); importing it here registers the model
# when the app registry loads, without touching visits/models.py.
from server.visits.state import HouseholdRoundState  # noqa: F401


class Device(models.Model):
    """A phone (or API client) of a user. The token is shown once; only its SHA-256 digest is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户 user", on_delete=models.CASCADE,
                             related_name="devices")
    device_id = models.CharField("设备编号 device id", max_length=64)
    name = models.CharField("设备名称 device name", max_length=100, blank=True)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField("令牌前缀 token prefix", max_length=8, editable=False)
    created_at = models.DateTimeField("创建时间 created at", default=timezone.now)
    expires_at = models.DateTimeField("过期时间 expires at")
    last_seen_at = models.DateTimeField("最近联系 last seen", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间 revoked at", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="吊销人 revoked by", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "设备"
        verbose_name_plural = "设备 devices"
        ordering = ["-last_seen_at", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "device_id"], name="one_device_row_per_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.name or self.device_id}"


class PullSnapshot(models.Model):
    """What one pull sent to a device: the change number it was taken at and the ids in scope. The next pull
    compares against it to find added cells (sent whole) and removed ones (sent as deletions).

    A pull of several pages writes one incomplete snapshot on its first page; the last page completes it."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="snapshots")
    seq = models.BigIntegerField()
    since_seq = models.BigIntegerField(null=True)  # the base cursor's seq; null for a reset
    reset = models.BooleanField(default=False)
    base = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, related_name="+")
    scope = models.JSONField(default=dict)  # {"rounds": [...], "cells": {cell: [rounds]}, "households": [...], ...}
    complete = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["device", "-id"])]

    def __str__(self) -> str:
        return f"{self.device} @ {self.seq}"


class HouseholdReportKind(models.TextChoices):
    NEW_HOUSEHOLD = "new_household", "新发现住户 new household found"
    WRONG_LOCATION = "wrong_location", "位置有误 wrong location"
    VACANT = "vacant", "空置 vacant"
    DEMOLISHED = "demolished", "已拆除 demolished"


class HouseholdReportStatus(models.TextChoices):
    PENDING = "pending", "待审核 pending"
    APPLIED = "applied", "已采纳 applied"
    DISMISSED = "dismissed", "已驳回 dismissed"


class HouseholdReport(models.Model):
    """A field worker's report about the register, made on the phone (its UUID is the key), pending review."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("类型 kind", max_length=16, choices=HouseholdReportKind.choices)
    household = models.ForeignKey("registry.Household", verbose_name="住户 household", null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="reports")
    round = models.ForeignKey("campaigns.Round", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cell = models.ForeignKey("territory.GridCell", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    location = models.PointField("位置 location", srid=4326, null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    address = models.CharField("地址 address", max_length=300, blank=True)
    street = models.CharField(max_length=100, blank=True)
    building = models.CharField(max_length=40, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    floor = models.SmallIntegerField(null=True, blank=True)
    room = models.CharField(max_length=20, blank=True)
    note = models.TextField("备注 note", blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64, blank=True)
    captured_at = models.DateTimeField("记录时间（设备）captured at (device)")
    received_at = models.DateTimeField("接收时间（服务器）received at (server)", default=timezone.now)
    status = models.CharField("状态 status", max_length=10, choices=HouseholdReportStatus.choices,
                              default=HouseholdReportStatus.PENDING)

    class Meta:
        verbose_name = "住户报告"
        verbose_name_plural = "住户报告 household reports"
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household_id or self.address}"
