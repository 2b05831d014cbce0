from django.urls import path

from server.sync import apis

urlpatterns = [
    path("auth/device", apis.DeviceAuthApi.as_view(), name="auth-device"),
    path("auth/device/wiped", apis.DeviceWipedApi.as_view(), name="auth-device-wiped"),
    path("sync/pull", apis.SyncPullApi.as_view(), name="sync-pull"),
    path("sync/push", apis.SyncPushApi.as_view(), name="sync-push"),
]
