from django.urls import path

from server.campaigns import apis

urlpatterns = [
    path("campaigns", apis.CampaignListApi.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>", apis.CampaignDetailApi.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/rounds", apis.RoundCreateApi.as_view(), name="round-create"),
    path("rounds/<int:pk>", apis.RoundDetailApi.as_view(), name="round-detail"),
    path("rounds/<int:pk>/open", apis.RoundOpenApi.as_view(), name="round-open"),
    path("rounds/<int:pk>/close", apis.RoundCloseApi.as_view(), name="round-close"),
    path("rounds/<int:pk>/cells", apis.RoundCellsApi.as_view(), name="round-cells"),
    path("rounds/<int:pk>/assignments", apis.RoundAssignApi.as_view(), name="round-assign"),
    path("rounds/<int:pk>/auto-assign", apis.RoundAutoAssignApi.as_view(), name="round-auto-assign"),
    path("rounds/<int:pk>/claims", apis.RoundClaimApi.as_view(), name="round-claim"),
    path("rounds/<int:pk>/changes", apis.RoundChangesApi.as_view(), name="round-changes"),
    path("rounds/<int:pk>/cells/<str:code>/walk-list", apis.WalkListApi.as_view(), name="walk-list"),
    path("rounds/<int:pk>/cells/<str:code>/walk-sheet.<str:fmt>", apis.WalkSheetApi.as_view(), name="walk-sheet"),
    path("rounds/<int:pk>/walk-sheets", apis.WalkSheetImportApi.as_view(), name="walk-sheet-import"),
    path("teams", apis.TeamListApi.as_view(), name="team-list"),
]
