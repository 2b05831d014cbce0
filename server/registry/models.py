"""The household register: households, residents, key groups and key places.

Personal data is kept to the minimum: ID numbers only as a keyed hash plus the last four characters;
phones encrypted, with a masked copy for every screen that does not need the full number.
"""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone

ELDERLY_AGE = 60


class HouseholdStatus(models.TextChoices):
    OCCUPIED = "occupied", "在住 occupied"
    VACANT = "vacant", "空置 vacant"
    DEMOLISHED = "demolished", "已拆除 demolished"


class Household(models.Model):
    register_id = models.CharField("登记编号 register id", max_length=40, unique=True)
    community = models.ForeignKey(
        "territory.Area", verbose_name="社区/村 community", on_delete=models.PROTECT, related_name="households"
    )
    street = models.CharField("街路巷 street", max_length=100, blank=True)
    building = models.CharField("楼栋 building", max_length=40, blank=True)
    unit = models.CharField("单元 unit", max_length=20, blank=True)
    floor = models.SmallIntegerField("楼层 floor", null=True, blank=True)
    room = models.CharField("房号 room", max_length=20, blank=True)
    address = models.CharField("地址 address", max_length=300, blank=True)
    location = models.PointField("位置 location", srid=4326)
    cell = models.ForeignKey(
        "territory.GridCell", verbose_name="网格 grid cell", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="households",
    )
    status = models.CharField(
        "状态 status", max_length=16, choices=HouseholdStatus.choices, default=HouseholdStatus.OCCUPIED
    )
    size = models.PositiveSmallIntegerField("人数 size", default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Stamped by database triggers on every insert and update: the sync cursor (server/sync/changeseq.py).
    change_seq = models.BigIntegerField("变更序号 change sequence", null=True, editable=False, db_index=True)

    class Meta:
        verbose_name = "住户"
        verbose_name_plural = "住户 households"
        ordering = ["register_id"]
        indexes = [models.Index(fields=["cell", "status"])]

    def __str__(self) -> str:
        return self.address or self.register_id


class KeyGroup(models.Model):
    """A configurable key group (重点人群). `elderly` is derived from the birth year, never tagged by hand."""

    code = models.SlugField("代码 code", max_length=40, unique=True)
    name = models.CharField("名称 name", max_length=60)
    name_en = models.CharField("英文名 English name", max_length=60, blank=True)
    derived = models.BooleanField("自动判定 derived", default=False)

    class Meta:
        verbose_name = "重点人群"
        verbose_name_plural = "重点人群 key groups"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Sex(models.TextChoices):
    MALE = "M", "男 male"
    FEMALE = "F", "女 female"
    UNKNOWN = "", "未知 unknown"


class Resident(models.Model):
    household = models.ForeignKey(
        Household, verbose_name="住户 household", on_delete=models.CASCADE, related_name="residents"
    )
    name = models.CharField("姓名 name", max_length=60)
    sex = models.CharField("性别 sex", max_length=1, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField("出生年份 birth year", null=True, blank=True)
    phone_cipher = models.TextField("手机（加密）phone (encrypted)", blank=True, editable=False)
    phone_masked = models.CharField("手机 phone", max_length=20, blank=True, editable=False)
    id_hash = models.CharField("身份证哈希 ID hash", max_length=64, blank=True, db_index=True, editable=False)
    id_last4 = models.CharField("身份证后四位 ID last 4", max_length=4, blank=True, editable=False)
    key_groups = models.ManyToManyField(
        KeyGroup, verbose_name="重点人群 key groups", blank=True, related_name="residents"
    )

    class Meta:
        verbose_name = "居民"
        verbose_name_plural = "居民 residents"
        ordering = ["household_id", "id"]
        # the full coverage recompute reads the elderly of the city (birth year, household) from this index alone
        indexes = [models.Index(fields=["birth_year", "household"], name="resident_birth_year_household")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_elderly(self) -> bool:
        return self.birth_year is not None and timezone.localdate().year - self.birth_year >= ELDERLY_AGE


class KeyPlaceKind(models.TextChoices):
    ENTERPRISE = "enterprise", "企业 enterprise"
    SCHOOL = "school", "学校 school"


class KeyPlace(models.Model):
    kind = models.CharField("类别 kind", max_length=16, choices=KeyPlaceKind.choices)
    name = models.CharField("名称 name", max_length=120)
    community = models.ForeignKey(
        "territory.Area", verbose_name="社区/村 community", on_delete=models.PROTECT, related_name="key_places"
    )
    address = models.CharField("地址 address", max_length=300, blank=True)
    location = models.PointField("位置 location", srid=4326)
    contact_name = models.CharField("联系人 contact", max_length=60, blank=True)
    contact_phone_cipher = models.TextField("联系电话（加密）", blank=True, editable=False)
    contact_phone_masked = models.CharField("联系电话 contact phone", max_length=20, blank=True, editable=False)
    size = models.PositiveIntegerField("人数 size", default=0, help_text="员工或学生人数 staff or students")

    class Meta:
        verbose_name = "重点场所"
        verbose_name_plural = "重点场所 key places"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
