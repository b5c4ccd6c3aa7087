"""API for referral casework: programmes and sites, municipality and postal-code look-ups, and
referrals (crisis-centre staff submit and change them; coordinators accept them into the queue;
either withdraws one). Each view reads through a scoped selector and calls one service."""

import re

import django_filters
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.api_access import AUTHENTICATED, read_roles, within_token_centre
from accounts.roles import CASE_ROLES, COORDINATING_ROLES, Role
from core.api import (
    IF_MATCH,
    Conflict,
    SlotSerializer,
    StrictSerializer,
    etag_of,
    require_if_match,
)
from matching.lifecycle import referral_accept, referral_withdraw
from programmes.audit import ApiReadsLogged
from programmes.models import (
    Activity,
    Gender,
    Municipality,
    PostalCode,
    Programme,
    ProgrammeSite,
    Referral,
)
from programmes.selectors import (
    programmes_visible_to,
    referrals_coordinated_by,
    referrals_referred_by,
    referrals_visible_to,
    sites_visible_to,
)
from programmes.services import (
    ALIAS_IS_MADE_BY_KOBLING,
    ReferralInput,
    SubmissionKeyReused,
    referral_submit,
    referral_update,
)


class ProgrammeSerializer(serializers.ModelSerializer):
    required_vetting = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Programme
        fields = (
            "slug",
            "name",
            "description",
            "volunteers_per_referral",
            "min_commitment_months",
            "required_vetting",
            "required_politiattest_type",
            "default_max_distance_km",
            "requires_children",
            "child_min_age",
            "child_max_age",
            "min_language_level",
            "who_may_be_referred",
        )
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Activity
        fields = ("code", "name_nb", "name_en", "is_active")
        read_only_fields = fields


class SiteSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField[Programme](slug_field="slug", read_only=True)
    crisis_centre_name = serializers.CharField(source="crisis_centre.name", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = ProgrammeSite
        fields = ("id", "programme", "crisis_centre", "crisis_centre_name", "organisation_name")
        read_only_fields = fields


class MunicipalitySerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county.number", read_only=True)

    class Meta:
        model = Municipality
        fields = ("number", "name", "county", "sami_language_area")
        read_only_fields = fields


class PostalCodeSerializer(serializers.ModelSerializer):
    municipality = serializers.CharField(source="municipality.number", read_only=True)
    municipality_name = serializers.CharField(source="municipality.name", read_only=True)

    class Meta:
        model = PostalCode
        fields = ("code", "place", "municipality", "municipality_name")
        read_only_fields = fields


class ReferralSerializer(serializers.ModelSerializer):
    """What crisis-centre staff, coordinators and admins read about a referral: also why it was
    closed or withdrawn. Never for volunteers: they see a participant through matching.api's
    OwnMatchSerializer only."""

    programme = serializers.CharField(source="site.programme.slug", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    closure_reason = serializers.ChoiceField(
        choices=Referral.ClosureReason.choices, allow_blank=True, read_only=True
    )
    withdrawal_reason = serializers.ChoiceField(
        choices=Referral.WithdrawalReason.choices, allow_blank=True, read_only=True
    )
    closure_reason_display = serializers.CharField(
        source="get_closure_reason_display", read_only=True
    )
    withdrawal_reason_display = serializers.CharField(
        source="get_withdrawal_reason_display", read_only=True
    )
    postal_code = serializers.SlugRelatedField[PostalCode](
        slug_field="code", read_only=True, allow_null=True
    )
    municipality = serializers.SlugRelatedField[Municipality](slug_field="number", read_only=True)
    volunteer_gender = serializers.ChoiceField(
        choices=Gender.choices, allow_blank=True, read_only=True
    )
    avoid_municipalities = serializers.SlugRelatedField[Municipality](
        slug_field="number", many=True, read_only=True
    )
    wished_activities = serializers.SlugRelatedField[Activity](
        slug_field="code", many=True, read_only=True
    )
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    availability = SlotSerializer(many=True, read_only=True)
    children_birth_years = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Referral
        fields = (
            "id",
            "alias",
            "site",
            "programme",
            "status",
            "status_display",
            "closure_reason",
            "closure_reason_display",
            "withdrawal_reason",
            "withdrawal_reason_display",
            "withdrawal_note",
            "adults",
            "children_birth_years",
            "postal_code",
            "municipality",
            "languages",
            "availability",
            "volunteer_gender",
            "max_distance_km",
            "avoid_municipalities",
            "wished_activities",
            "notes",
            "consent_given_on",
            "submitted_at",
            "status_changed_at",
            "waiting_since",
        )
        read_only_fields = fields


class ReferralChangeSerializer(StrictSerializer):
    """The fields staff may give on a change; the service and the model's validators judge
    the values and name the field at fault."""

    languages = serializers.ListField(
        child=serializers.CharField(max_length=10), max_length=20, help_text=_("ISO 639 codes.")
    )
    postal_code = serializers.CharField(max_length=10, allow_blank=True)
    municipality = serializers.CharField(max_length=10, allow_blank=True)
    # many=True makes a ListSerializer, which takes max_length; the stubs miss it.
    availability = SlotSerializer(many=True, max_length=50)  # type: ignore[call-arg]
    adults = serializers.IntegerField()
    children_birth_years = serializers.ListField(child=serializers.IntegerField(), max_length=20)
    volunteer_gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True)
    max_distance_km = serializers.IntegerField(allow_null=True)
    avoid_municipalities = serializers.ListField(
        child=serializers.CharField(max_length=10), max_length=50
    )
    wished_activities = serializers.ListField(
        child=serializers.CharField(max_length=50),
        max_length=50,
        help_text=_(
            "Codes from /api/v1/activities/: what the children (Fritidsvenn) or the participant "
            "(Ressursvenn) would like to do."
        ),
    )
    notes = serializers.CharField(
        max_length=280, allow_blank=True, help_text=_("Optional note for the coordinator.")
    )

    def to_internal_value(self, data):
        # Named apart from other unknown fields: a client that sent one needs to know why.
        if isinstance(data, dict) and "alias" in data:
            raise ValidationError({"alias": [ALIAS_IS_MADE_BY_KOBLING]})
        return super().to_internal_value(data)


class ReferralSubmitSerializer(ReferralChangeSerializer):
    site = serializers.IntegerField()
    consent_given_on = serializers.DateField()
    postal_code = serializers.CharField(max_length=10, allow_blank=True, default="")
    municipality = serializers.CharField(max_length=10, allow_blank=True, default="")
    # many=True makes a ListSerializer, which takes max_length; the stubs miss it.
    availability = SlotSerializer(many=True, max_length=50, default=list)  # type: ignore[call-arg]
    adults = serializers.IntegerField(default=1)
    children_birth_years = serializers.ListField(
        child=serializers.IntegerField(), max_length=20, default=list
    )
    volunteer_gender = serializers.ChoiceField(choices=Gender.choices, allow_blank=True, default="")
    max_distance_km = serializers.IntegerField(allow_null=True, default=None)
    avoid_municipalities = serializers.ListField(
        child=serializers.CharField(max_length=10), max_length=50, default=list
    )
    wished_activities = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=50, default=list
    )
    notes = serializers.CharField(max_length=280, allow_blank=True, default="")


class ReferralFilter(django_filters.FilterSet):
    programme = django_filters.CharFilter(field_name="site__programme__slug")

    class Meta:
        model = Referral
        fields = ("status", "site")


class MunicipalityFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    county = django_filters.CharFilter(field_name="county__number")

    class Meta:
        model = Municipality
        fields = ("name", "county")


class PostalCodeFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(field_name="code", lookup_expr="startswith")
    municipality = django_filters.CharFilter(field_name="municipality__number")

    class Meta:
        model = PostalCode
        fields = ("code", "municipality")


class ProgrammeViewSet(viewsets.ReadOnlyModelViewSet):
    roles = read_roles(AUTHENTICATED)
    serializer_class = ProgrammeSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-z0-9_]+"
    ordering_fields = ("name", "slug")

    def get_queryset(self):
        return programmes_visible_to(self.request.user)


class ActivityViewSet(viewsets.ReadOnlyModelViewSet):
    """The leisure activities referrals and volunteers choose from, by code; ``is_active`` is
    false for one no longer offered for new choices. Any signed-in user may look them up."""

    roles = read_roles(AUTHENTICATED)
    serializer_class = ActivitySerializer
    queryset = Activity.objects.all()
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9_]+"
    filterset_fields = ("is_active",)
    ordering_fields = ("position", "code")


class SiteViewSet(viewsets.ReadOnlyModelViewSet):
    roles = read_roles(*CASE_ROLES)
    serializer_class = SiteSerializer
    filterset_fields = ("programme", "crisis_centre")
    ordering_fields = ("id",)

    def get_queryset(self):
        sites = sites_visible_to(self.request.user)
        return within_token_centre(self.request, sites, "crisis_centre")


class MunicipalityViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference data for forms; any signed-in user may look it up."""

    roles = read_roles(AUTHENTICATED)
    serializer_class = MunicipalitySerializer
    queryset = Municipality.objects.select_related("county")
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{4}"
    filterset_class = MunicipalityFilter
    ordering_fields = ("number", "name", "population")


class PostalCodeViewSet(viewsets.ReadOnlyModelViewSet):
    roles = read_roles(AUTHENTICATED)
    serializer_class = PostalCodeSerializer
    queryset = PostalCode.objects.select_related("municipality")
    lookup_field = "code"
    lookup_value_regex = r"[0-9]{4}"
    filterset_class = PostalCodeFilter
    ordering_fields = ("code", "place")


def referral_etag(referral: Referral) -> str:
    return etag_of(ReferralSerializer(referral).data)


class WithdrawSerializer(StrictSerializer):
    reason = serializers.ChoiceField(choices=Referral.WithdrawalReason.choices)
    note = serializers.CharField(max_length=280, allow_blank=True, required=False, default="")


IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,100}$"
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=IDEMPOTENCY_KEY_PATTERN,
    description=gettext_lazy(
        "A new random value (such as a UUID) per referral. Sending the request again with the "
        "same key and body answers with the referral made the first time instead of a second "
        "one; the same key with another body is refused (409)."
    ),
)
IDEMPOTENCY_KEY_REUSED = gettext_lazy(
    "This Idempotency-Key was already used for a referral with other answers. Send a new key "
    "for a new referral."
)


def idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if key and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise ValidationError(
            {"Idempotency-Key": [_("Use 1 to 100 letters, digits or punctuation, no spaces.")]}
        )
    return key


class ReferralViewSet(ApiReadsLogged, viewsets.GenericViewSet):
    roles = {
        **read_roles(*CASE_ROLES),
        "create": {Role.CRISIS_CENTRE_STAFF},
        "partial_update": {Role.CRISIS_CENTRE_STAFF},
        "withdraw": CASE_ROLES,
        "accept": COORDINATING_ROLES,
    }
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    ordering_fields = ("submitted_at", "status_changed_at", "waiting_since", "alias")
    if_match_methods = ("PATCH",)
    # Changing is for the referring centre's staff, accepting for the site's coordinators;
    # withdrawing for either (matching.lifecycle.referral_withdraw checks it again).
    selectors_by_action = {
        "partial_update": referrals_referred_by,
        "accept": referrals_coordinated_by,
    }

    def get_queryset(self):
        selector = self.selectors_by_action.get(self.action, referrals_visible_to)
        referrals = selector(self.request.user).prefetch_related(
            "avoid_municipalities", "wished_activities"
        )
        return within_token_centre(self.request, referrals, "site__crisis_centre")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ReferralSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self._respond(self.get_object())

    @extend_schema(
        request=ReferralSubmitSerializer,
        responses={201: ReferralSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request):
        given = ReferralSubmitSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        site = self._site(fields.pop("site"))
        try:
            referral = referral_submit(
                site=site,
                data=ReferralInput(**fields),
                submitted_by=request.user,
                submission_key=idempotency_key(request),
            )
        except SubmissionKeyReused:
            raise Conflict(IDEMPOTENCY_KEY_REUSED) from None
        location = reverse("api:referral-detail", args=[referral.pk])
        return self._respond(referral, status.HTTP_201_CREATED, Location=location)

    @extend_schema(
        request=ReferralChangeSerializer, responses=ReferralSerializer, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        given = ReferralChangeSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        referral = self.get_object()
        with transaction.atomic():
            locked = Referral.objects.select_for_update().get(pk=referral.pk)
            require_if_match(request, referral_etag(locked))
            changed = referral_update(
                locked, changes=dict(given.validated_data), updated_by=request.user
            )
        return self._respond(changed)

    @extend_schema(request=WithdrawSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw from any open state, with a reason: pending proposals are withdrawn and free
        their volunteers, an open match ends at once. 400 on ``status`` if it is already closed
        or withdrawn."""
        given = WithdrawSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        referral = referral_withdraw(self.get_object(), by=request.user, **given.validated_data)
        return self._respond(referral)

    @extend_schema(request=None, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Take a submitted referral into the queue; 400 on ``status`` from any other status."""
        return self._respond(referral_accept(self.get_object(), by=request.user))

    def _site(self, site_id: int) -> ProgrammeSite:
        sites = within_token_centre(
            self.request, sites_visible_to(self.request.user), "crisis_centre"
        )
        site = sites.filter(pk=site_id).first()
        if site is None:
            raise ValidationError({"site": [_("Unknown site.")]})
        return site

    def _respond(self, referral: Referral, code: int = status.HTTP_200_OK, **headers) -> Response:
        referral = referrals_visible_to(self.request.user).get(pk=referral.pk)
        body = ReferralSerializer(referral).data
        return Response(body, status=code, headers={"ETag": etag_of(body), **headers})


ROUTES = [
    ("programmes", ProgrammeViewSet, "programme"),
    ("activities", ActivityViewSet, "activity"),
    ("sites", SiteViewSet, "site"),
    ("municipalities", MunicipalityViewSet, "municipality"),
    ("postal-codes", PostalCodeViewSet, "postal-code"),
    ("referrals", ReferralViewSet, "referral"),
]
