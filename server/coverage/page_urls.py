from django.urls import path

from server.coverage import views

app_name = "coverage"
urlpatterns = [path("", views.coverage_map_page, name="map")]
