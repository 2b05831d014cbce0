"""Who may plan: permission predicates for campaigns and rounds."""

from __future__ import annotations

from server.accounts.models import Role, User
from server.campaigns import selectors
from server.campaigns.models import Campaign, Round

PLAN_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STATION_CHIEF}


def can_plan(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or getattr(user, "role", None) in PLAN_ROLES))


def can_view_campaign(user: User, campaign: Campaign) -> bool:
    return selectors.campaign_list(user=user).filter(pk=campaign.pk).exists()


def can_plan_campaign(user: User, campaign: Campaign) -> bool:
    return can_plan(user) and can_view_campaign(user, campaign)


def can_plan_round(user: User, round: Round) -> bool:
    return can_plan_campaign(user, round.campaign)
