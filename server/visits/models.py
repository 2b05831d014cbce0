"""Visits (走访): append-only facts made on a phone, on paper or on the web.

The primary key is the UUID the phone made. A correction is a new visit pointing at the one it corrects;
a household's state in a round is derived from its uncorrected visits, so two workers never conflict.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone


class VisitSource(models.TextChoices):
    APP = "app", "手机 app"
    PAPER = "paper", "纸质走访表 paper sheet"
    WEB = "web", "网页 web"


class Visit(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="visits")
    round = models.ForeignKey("campaigns.Round", on_delete=models.PROTECT, related_name="visits")
    cell = models.ForeignKey("territory.GridCell", null=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.ForeignKey("campaigns.OutcomeCode", on_delete=models.PROTECT, related_name="visits")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    source = models.CharField(max_length=8, choices=VisitSource.choices, default=VisitSource.APP)
    device_id = models.CharField(max_length=64, blank=True)
    captured_at = models.DateTimeField("记录时间（设备）captured at (device)")
    received_at = models.DateTimeField("接收时间（服务器）received at (server)", default=timezone.now)
    location = models.PointField(srid=4326, null=True, blank=True)
    accuracy_m = models.FloatField(null=True, blank=True)
    fix_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, blank=True)
    mock_location = models.BooleanField(default=False)
    # Set when the retention job coarsened or dropped the location (server/visits/retention.py).
    gps_coarsened_at = models.DateTimeField("定位到期处理时间 GPS coarsened at", null=True, blank=True, editable=False)
    leaflet = models.BooleanField("发放资料 leaflet", default=False)
    app_installed = models.BooleanField("安装反诈APP app installed", default=False)
    hotline_explained = models.BooleanField("讲解96110 hotline explained", default=False)
    residents_met = models.PositiveSmallIntegerField("见面人数 residents met", default=0)
    key_groups_met = models.JSONField("见到的重点人群 key groups met", default=list, blank=True)
    risk_note = models.TextField("风险备注 risk note", blank=True)
    corrects = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrected_by",
        help_text="更正的走访 the visit this one corrects",
    )
    # Plausibility flags: set at receipt, never a reason to reject.
    flag_far = models.BooleanField("GPS离住户过远 GPS far from household", default=False)
    flag_inaccurate = models.BooleanField("GPS精度差 poor accuracy", default=False)
    flag_mock = models.BooleanField("模拟定位 mock location", default=False)
    flag_clock = models.BooleanField("设备时钟偏差 device clock off", default=False)
    distance_m = models.FloatField("与住户距离 distance to household (m)", null=True, blank=True)
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "走访"
        verbose_name_plural = "走访 visits"
        ordering = ["-captured_at"]
        indexes = [
            models.Index(fields=["round", "household"]),
            models.Index(fields=["round", "cell"]),
            models.Index(fields=["worker", "captured_at"]),
            # The corrections of a few households, for the visits they take out of the figures and the states
            # (server/visits/selectors.py): a handful of entries, so a push's refresh finds them without reading
            # the households' visits twice.
            models.Index(fields=["household", "round"], condition=models.Q(corrects__isnull=False),
                         name="visit_corrections"),
        ]

    @property
    def flagged(self) -> bool:
        return self.flag_far or self.flag_inaccurate or self.flag_mock or self.flag_clock
