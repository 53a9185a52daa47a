"""REST routes of the groups app, mounted under /api/v1/."""

from django.urls import path

from groups.api import details, views

app_name = "groups"

urlpatterns = [
    path("phone-numbers/", views.PhoneNumberListCreateApi.as_view(), name="phone-number-list"),
    path("phone-numbers/<int:pk>/", details.PhoneNumberDetailApi.as_view(), name="phone-number-detail"),
    path("groups/", views.GroupListCreateApi.as_view(), name="group-list"),
    path("groups/<int:pk>/", views.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<int:pk>/invite-link/", views.GroupInviteLinkApi.as_view(), name="group-invite-link"),
    path("groups/<int:pk>/invite-link/reset/", views.GroupInviteLinkResetApi.as_view(),
         name="group-invite-link-reset"),
    path("groups/<int:pk>/picture/", views.GroupPictureApi.as_view(), name="group-picture"),
    path("groups/<int:pk>/participants/", views.GroupParticipantListApi.as_view(), name="group-participants"),
    path("groups/<int:pk>/participants/<int:participant>/", details.GroupParticipantDetailApi.as_view(),
         name="group-participant-detail"),
    path("groups/<int:pk>/participants/remove/", views.GroupParticipantsRemoveApi.as_view(),
         name="group-participants-remove"),
    path("groups/<int:pk>/join-requests/", views.GroupJoinRequestListApi.as_view(), name="group-join-requests"),
    path("groups/<int:pk>/join-requests/<int:join_request>/", details.GroupJoinRequestDetailApi.as_view(),
         name="group-join-request-detail"),
    path("groups/<int:pk>/join-requests/approve/", views.GroupJoinRequestsApproveApi.as_view(),
         name="group-join-requests-approve"),
    path("groups/<int:pk>/join-requests/reject/", views.GroupJoinRequestsRejectApi.as_view(),
         name="group-join-requests-reject"),
    path("groups/<int:pk>/events/", views.GroupEventListApi.as_view(), name="group-events"),
    path("groups/<int:pk>/events/<int:event>/", details.GroupEventDetailApi.as_view(), name="group-event-detail"),
]
