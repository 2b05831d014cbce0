"""The territory tree: city → district/county → township/subdistrict → community/village → grid cell.

Areas carry national-style administrative codes (341100 city, 341102 district, 341102001 township,
341102001001 community); grid cells extend their community's code by three digits. `path` holds the codes
from the city down ("341100/341102/341102001/"), so "everything under an area" is one prefix lookup.
"""

from __future__ import annotations

from django.contrib.gis.db import models


class AreaLevel(models.TextChoices):
    CITY = "city", "市 city"
    DISTRICT = "district", "区/县 district/county"
    TOWNSHIP = "township", "乡镇/街道 township/subdistrict"
    COMMUNITY = "community", "社区/村 community/village"


LEVEL_ORDER = [AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.TOWNSHIP, AreaLevel.COMMUNITY]


def area_path(parent: Area | None, code: str) -> str:
    """Materialised path of a node: its parent's path plus its own code."""
    return f"{parent.path if parent is not None else ''}{code}/"


class Area(models.Model):
    code = models.CharField("代码 code", max_length=20, unique=True)
    name = models.CharField("名称 name", max_length=100)
    level = models.CharField("层级 level", max_length=16, choices=AreaLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级 parent", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField("路径 path", max_length=200, db_index=True, editable=False)
    geom = models.MultiPolygonField("边界 boundary", srid=4326, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "行政区域"
        verbose_name_plural = "行政区域 areas"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.path = area_path(self.parent, self.code)
        super().save(*args, **kwargs)


class GridCell(models.Model):
    code = models.CharField("网格编码 code", max_length=24, unique=True)
    name = models.CharField("名称 name", max_length=100)
    community = models.ForeignKey(
        Area, verbose_name="所属社区/村 community", on_delete=models.PROTECT, related_name="grid_cells",
        limit_choices_to={"level": AreaLevel.COMMUNITY},
    )
    path = models.CharField("路径 path", max_length=200, db_index=True, editable=False)
    geom = models.PolygonField("范围 polygon", srid=4326)
    worker = models.ForeignKey(
        "accounts.User", verbose_name="责任网格员 grid worker", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="grid_cells",
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格 grid cells"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.path = area_path(self.community, self.code)
        super().save(*args, **kwargs)


class PoliceStation(models.Model):
    code = models.CharField("编码 code", max_length=24, unique=True)
    name = models.CharField("名称 name", max_length=100)
    district = models.ForeignKey(
        Area, verbose_name="所属区县 district", null=True, blank=True, on_delete=models.PROTECT,
        related_name="police_stations", limit_choices_to={"level": AreaLevel.DISTRICT},
    )
    path = models.CharField("路径 path", max_length=200, db_index=True, editable=False, default="")
    geom = models.MultiPolygonField("警格辖区 jurisdiction", srid=4326, null=True, blank=True)
    location = models.PointField("驻地 location", srid=4326, null=True, blank=True)

    class Meta:
        verbose_name = "派出所"
        verbose_name_plural = "派出所 police stations"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = area_path(self.district, self.code)
        super().save(*args, **kwargs)
