"""Planner pages for station chiefs: thin views over campaigns.selectors/services; the map talks to the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from server.accounts import scoping
from server.campaigns import permissions, selectors, services
from server.campaigns.errors import PlanError
from server.campaigns.models import Round
from server.planner.forms import CampaignForm, RoundForm


def _planner(request):
    if not permissions.can_plan(request.user):
        raise PermissionDenied("您无权规划 / You may not plan campaigns")


@login_required
def campaign_list(request):
    _planner(request)
    areas = scoping.areas_visible(request.user)
    form = CampaignForm(request.POST or None, areas_qs=areas)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(created_by=request.user, **form.cleaned_data)
        except PlanError as e:
            form.add_error(None, e.message)
        else:
            messages.success(request, f"已创建 Created: {campaign.name}")
            return redirect("planner:campaign", pk=campaign.pk)
    campaigns = selectors.campaign_list(user=request.user).prefetch_related("areas", "rounds")
    return render(request, "planner/campaign_list.html", {"campaigns": campaigns, "form": form})


@login_required
def campaign_detail(request, pk: int):
    _planner(request)
    campaign = get_object_or_404(selectors.campaign_list(user=request.user), pk=pk)
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round = services.round_create(campaign=campaign, user=request.user, **form.cleaned_data)
        except PlanError as e:
            form.add_error(None, e.message)
        else:
            messages.success(request, f"已新增第{round.number}轮 Round {round.number} added")
            return redirect("planner:campaign", pk=campaign.pk)
    rounds = [(r, selectors.round_summary(round=r, user=request.user)) for r in campaign.rounds.order_by("number")]
    return render(request, "planner/campaign_detail.html", {
        "campaign": campaign, "rounds": rounds, "form": form,
        "outcome_codes": campaign.outcome_codes.all(),
    })


@login_required
@require_POST
def round_action(request, pk: int, action: str):
    _planner(request)
    round = get_object_or_404(
        Round.objects.filter(campaign__in=selectors.campaign_list(user=request.user)), pk=pk)
    try:
        if action == "open":
            services.round_open(round=round, user=request.user)
            messages.success(request, f"第{round.number}轮已开启 Round {round.number} opened")
        elif action == "close":
            services.round_close(round=round, user=request.user)
            messages.success(request, f"第{round.number}轮已结束 Round {round.number} closed")
    except PlanError as e:
        messages.error(request, e.message)
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                    require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("planner:campaign", pk=round.campaign_id)  # never to another site (open redirect)


@login_required
def round_plan(request, pk: int):
    _planner(request)
    round = get_object_or_404(
        Round.objects.select_related("campaign").filter(campaign__in=selectors.campaign_list(user=request.user)),
        pk=pk)
    teams = selectors.teams_for_planning(user=request.user).order_by("name")
    return render(request, "planner/round_plan.html", {
        "round": round, "campaign": round.campaign, "teams": teams,
        "summary": selectors.round_summary(round=round, user=request.user),
        "tile_url": settings.QIAOMEN_TILE_URL, "tile_attribution": settings.QIAOMEN_TILE_ATTRIBUTION,
    })
