from django.urls import path

from server.planner import views

app_name = "planner"
urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("rounds/<int:pk>/", views.round_plan, name="round"),
    path("rounds/<int:pk>/<str:action>", views.round_action, name="round-action"),
]
