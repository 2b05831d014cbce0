"""Users, roles and teams. Every user is attached to the areas they work in; scoping follows the tree."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", "市级管理员 city admin"
    DISTRICT_ADMIN = "district_admin", "区县管理员 district admin"
    STATION_CHIEF = "station_chief", "派出所所长 station chief"
    TOWNSHIP_STAFF = "township_staff", "乡镇街道工作人员 township staff"
    GRID_WORKER = "grid_worker", "网格员 grid worker"
    VOLUNTEER = "volunteer", "志愿者 volunteer"


# Roles that see whole areas; field roles see only the cells they hold.
AREA_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STATION_CHIEF, Role.TOWNSHIP_STAFF}
FIELD_ROLES = {Role.GRID_WORKER, Role.VOLUNTEER}


class User(AbstractUser):
    role = models.CharField("角色 role", max_length=32, choices=Role.choices, default=Role.VOLUNTEER)
    areas = models.ManyToManyField(
        "territory.Area", verbose_name="工作区域 areas", blank=True, related_name="users"
    )
    police_station = models.ForeignKey(
        "territory.PoliceStation", verbose_name="所属派出所 police station", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="users",
    )
    phone = models.CharField("手机 phone", max_length=20, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户 users"

    @property
    def is_field_role(self) -> bool:
        return self.role in FIELD_ROLES


class Team(models.Model):
    name = models.CharField("名称 name", max_length=100)
    police_station = models.ForeignKey(
        "territory.PoliceStation", verbose_name="派出所 police station", null=True, blank=True,
        on_delete=models.SET_NULL, related_name="teams",
    )
    area = models.ForeignKey(
        "territory.Area", verbose_name="所属区域 area", on_delete=models.PROTECT, related_name="teams"
    )
    members = models.ManyToManyField(User, verbose_name="成员 members", blank=True, related_name="teams")
    leader = models.ForeignKey(
        User, verbose_name="队长 leader", null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    households_per_day = models.PositiveSmallIntegerField(
        "每人每天走访户数 households a worker visits a day", default=40
    )

    class Meta:
        verbose_name = "宣传小分队"
        verbose_name_plural = "宣传小分队 teams"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
