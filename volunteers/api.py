"""The volunteer's self-service API under /api/v1/me/: profile, languages, weekly availability,
pause and resume, and vetting status. Own matches are in matching/api.py (/api/v1/me/matches/).
"""

from django.db import transaction
from django.http import Http404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import Role
from core.api import IF_MATCH, SlotSerializer, StrictSerializer, etag_of, require_if_match
from programmes.languages import LEVEL_CODES
from programmes.models import Activity, PolitiattestType, PostalCode, Programme
from volunteers.models import VettingRecord, Volunteer
from volunteers.selectors import vetting_missing, volunteers_visible_to
from volunteers.services import volunteer_profile_update, volunteer_transition


class LanguageSerializer(StrictSerializer):
    code = serializers.CharField(max_length=10, help_text=_("ISO 639-1 or 639-3 code."))
    level = serializers.CharField(max_length=20, help_text=", ".join(LEVEL_CODES))


class ProfileSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    programmes = serializers.SlugRelatedField[Programme](
        slug_field="slug", many=True, read_only=True
    )
    home_postal_code = serializers.SlugRelatedField[PostalCode](slug_field="code", read_only=True)
    municipality = serializers.CharField(source="municipality.number", read_only=True)
    languages = LanguageSerializer(many=True, read_only=True)
    availability = SlotSerializer(many=True, read_only=True)
    activities = serializers.SlugRelatedField[Activity](
        slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Volunteer
        fields = (
            "username",
            "organisation",
            "programmes",
            "home_postal_code",
            "municipality",
            "gender",
            "languages",
            "availability",
            "capacity",
            "commitments",
            "activities",
            "status",
            "status_changed_at",
            "joined_on",
        )
        read_only_fields = fields


class ProfileChangeSerializer(StrictSerializer):
    activities = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=50,
        help_text=_("Codes of the activities you can do, from /api/v1/activities/."),
    )


class LanguagesSerializer(StrictSerializer):
    # many=True makes a ListSerializer, which takes max_length; the stubs miss it.
    languages = LanguageSerializer(many=True, max_length=20)  # type: ignore[call-arg]


class AvailabilitySerializer(StrictSerializer):
    # many=True makes a ListSerializer, which takes max_length; the stubs miss it.
    availability = SlotSerializer(many=True, max_length=50)  # type: ignore[call-arg]


class VettingRecordSerializer(serializers.ModelSerializer):
    politiattest_type = serializers.ChoiceField(
        choices=PolitiattestType.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = VettingRecord
        fields = ("kind", "politiattest_type", "issued_on", "expires_on")
        read_only_fields = fields


class ProgrammeVettingSerializer(serializers.Serializer):
    programme = serializers.CharField()
    missing = serializers.ListField(child=serializers.CharField())


class VettingStatusSerializer(serializers.Serializer):
    programmes = ProgrammeVettingSerializer(many=True)
    records = VettingRecordSerializer(many=True)


def own_volunteer(request) -> Volunteer:
    volunteer = volunteers_visible_to(request.user).filter(user=request.user).first()
    if volunteer is None:
        raise Http404
    return volunteer


def profile_response(volunteer: Volunteer) -> Response:
    return Response(ProfileSerializer(volunteer).data)


class MeView(APIView):
    roles = {"get": {Role.VOLUNTEER}, "patch": {Role.VOLUNTEER}}

    @extend_schema(responses=ProfileSerializer)
    def get(self, request):
        return profile_response(own_volunteer(request))

    @extend_schema(request=ProfileChangeSerializer, responses=ProfileSerializer)
    def patch(self, request):
        given = ProfileChangeSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        volunteer = volunteer_profile_update(own_volunteer(request), **given.validated_data)
        return profile_response(volunteer)


class MeLanguagesView(APIView):
    roles = {"get": {Role.VOLUNTEER}, "put": {Role.VOLUNTEER}}

    @extend_schema(responses=LanguagesSerializer)
    def get(self, request):
        return Response({"languages": own_volunteer(request).languages})

    @extend_schema(request=LanguagesSerializer, responses=LanguagesSerializer)
    def put(self, request):
        given = LanguagesSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        volunteer = volunteer_profile_update(own_volunteer(request), **given.validated_data)
        return Response({"languages": volunteer.languages})


class MeAvailabilityView(APIView):
    """Weekly availability, guarded by ETag/If-Match so two devices cannot overwrite each
    other's change unseen."""

    roles = {"get": {Role.VOLUNTEER}, "put": {Role.VOLUNTEER}}
    if_match_methods = ("PUT",)

    @extend_schema(responses=AvailabilitySerializer)
    def get(self, request):
        return self._respond(own_volunteer(request))

    @extend_schema(
        request=AvailabilitySerializer, responses=AvailabilitySerializer, parameters=[IF_MATCH]
    )
    def put(self, request):
        given = AvailabilitySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        volunteer = own_volunteer(request)
        with transaction.atomic():
            locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
            require_if_match(request, etag_of(locked.availability))
            changed = volunteer_profile_update(locked, **given.validated_data)
        return self._respond(changed)

    def _respond(self, volunteer: Volunteer) -> Response:
        body = {"availability": volunteer.availability}
        return Response(body, headers={"ETag": etag_of(volunteer.availability)})


class MeTransitionView(APIView):
    """Pause (from active) or resume (from paused)."""

    roles = {"post": {Role.VOLUNTEER}}
    to: str = ""
    only_from: str = ""

    @extend_schema(request=None, responses=ProfileSerializer)
    def post(self, request):
        volunteer = own_volunteer(request)
        return profile_response(volunteer_transition(volunteer, self.to, only_from=self.only_from))


class MeVettingView(APIView):
    """What vetting each of the volunteer's programmes still needs today, and the records held."""

    roles = {"get": {Role.VOLUNTEER}}

    @extend_schema(responses=VettingStatusSerializer)
    def get(self, request):
        volunteer = own_volunteer(request)
        today = timezone.localdate()
        body = {
            "programmes": [
                {"programme": p.slug, "missing": vetting_missing(volunteer, p, today)}
                for p in volunteer.programmes.all()
            ],
            "records": VettingRecordSerializer(volunteer.vetting.all(), many=True).data,
        }
        return Response(body)


URLS = [
    path("me/", MeView.as_view(), name="me"),
    path("me/languages/", MeLanguagesView.as_view(), name="me-languages"),
    path("me/availability/", MeAvailabilityView.as_view(), name="me-availability"),
    path(
        "me/pause/",
        MeTransitionView.as_view(to=Volunteer.Status.PAUSED, only_from=Volunteer.Status.ACTIVE),
        name="me-pause",
    ),
    path(
        "me/resume/",
        MeTransitionView.as_view(to=Volunteer.Status.ACTIVE, only_from=Volunteer.Status.PAUSED),
        name="me-resume",
    ),
    path("me/vetting/", MeVettingView.as_view(), name="me-vetting"),
]
