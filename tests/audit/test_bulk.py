"""The access log at scale: a page of referrals, a run's proposals and a task's updates each
write the log with one statement however many rows it takes; every question asked of the log
has an index; the admin's viewer of the log never counts or groups the whole table."""

import datetime

import pytest
from auditlog.context import set_extra_data
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.models import Proposal
from matching.services import match_run_start
from programmes.audit import objects_log_created, queryset_update_logged, referrals_log_read
from programmes.models import AuditLogEntry, Referral
from tests.matching.factories import ready_volunteer, site_with_people, waiting_referral
from tests.programmes.factories import ReferralFactory

pytestmark = pytest.mark.django_db

TABLE = AuditLogEntry._meta.db_table
LOG = "/admin/programmes/auditlogentry/"
Action = AuditLogEntry.Action


def log_inserts(queries) -> int:
    return sum(1 for query in queries if query["sql"].startswith(f'INSERT INTO "{TABLE}"'))


LISTS = {
    "portal": ("portal_as", "staff_a", "/referrals/"),
    "api": ("api_as", "coord_x", "/api/v1/referrals/"),
    "admin": ("portal_as", "admin", "/admin/programmes/referral/"),
}


@pytest.mark.parametrize("client_for, reader, url", LISTS.values(), ids=LISTS.keys())
def test_a_list_of_referrals_logs_its_reads_in_one_statement_whatever_its_length(
    world, request, reads_since, client_for, reader, url
):
    client = request.getfixturevalue(client_for)(reader)
    seen = []
    for more in (2, 10):
        for _ in range(more):
            ReferralFactory(site=world.site_x, consent_recorded_by=world.users["staff_a"])
        before = len(reads_since())
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        seen.append((log_inserts(queries), len(reads_since()) - before))

    (statements_few, rows_few), (statements_many, rows_many) = seen
    assert statements_few == statements_many == 1
    assert rows_many > rows_few > 0


def test_a_read_logged_in_bulk_names_reader_referral_channel_and_time(world):
    staff = world.users["staff_a"]
    ids = [world.referral_x.pk, world.waiting_x.pk]

    with CaptureQueriesContext(connection) as queries:
        referrals_log_read(staff, [*ids, world.referral_x], "export")

    assert log_inserts(queries) == 1
    rows = AuditLogEntry.objects.filter(action=Action.ACCESS).order_by("object_id")
    assert [(r.actor_id, r.object_id, r.object_pk, r.channel) for r in rows] == [
        (staff.pk, pk, str(pk), "export") for pk in sorted(ids)
    ]
    assert [r.object_repr for r in rows] == [f"Referral #{pk}" for pk in sorted(ids)]
    assert {r.content_type.model_class() for r in rows} == {Referral}
    assert len({r.timestamp for r in rows}) == 1
    assert rows[0].timestamp <= AuditLogEntry.objects.latest("pk").timestamp


def test_an_anonymous_reader_is_logged_without_an_actor(world):
    from django.contrib.auth.models import AnonymousUser

    referrals_log_read(AnonymousUser(), [world.referral_x], "api")

    assert AuditLogEntry.objects.get(action=Action.ACCESS).actor_id is None


@pytest.mark.usefixtures("eager_celery")
def test_a_programme_wide_run_logs_its_proposals_in_a_constant_number_of_statements(
    django_capture_on_commit_callbacks,
):
    site, _staff, coordinator = site_with_people()
    seen = []
    for size in (2, 6):
        referrals = [waiting_referral(site, languages=["ar"]) for _ in range(size)]
        for _ in range(size):
            ready_volunteer()
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            run = match_run_start(
                programme=site.programme, started_by=coordinator, scope="programme"
            )
        run.refresh_from_db()
        assert run.status == "succeeded", run.error
        proposals = Proposal.objects.filter(run=run)
        created = AuditLogEntry.objects.filter(
            action=Action.CREATE, content_type__model="proposal", object_id__in=proposals
        )
        assert created.count() == proposals.count() == size
        assert {p.referral_id for p in proposals} == {r.pk for r in referrals}
        seen.append(log_inserts(queries))

    assert seen[0] == seen[1] <= 2


def test_objects_made_in_bulk_are_logged_in_one_statement_with_the_actor_and_channel(world):
    coordinator = world.users["coord_x"]
    proposals = list(Proposal.objects.all())
    assert len(proposals) >= 2

    with (
        set_extra_data({"actor_id": lambda: coordinator.pk, "channel": "portal"}),
        CaptureQueriesContext(connection) as queries,
    ):
        objects_log_created(proposals)

    assert log_inserts(queries) == 1
    rows = AuditLogEntry.objects.filter(action=Action.CREATE, content_type__model="proposal")
    logged = rows.filter(object_id__in=[p.pk for p in proposals], actor=coordinator)
    assert logged.count() == len(proposals)
    assert set(logged.values_list("channel", flat=True)) == {"portal"}
    row = logged.get(object_id=proposals[0].pk)
    assert row.object_repr == f"Proposal #{proposals[0].pk}"
    assert {"status", "referral"} <= set(row.changes)


def test_a_queryset_update_is_logged_in_one_statement_for_each_changed_object(world):
    waiting = Referral.objects.filter(pk__in=[world.referral_x.pk, world.referral_y.pk])
    today = datetime.date(2026, 11, 30)

    with CaptureQueriesContext(connection) as queries:
        assert queryset_update_logged(waiting, long_wait_flagged_on=today) == 2

    assert log_inserts(queries) == 1
    rows = AuditLogEntry.objects.filter(
        action=Action.UPDATE, changes__has_key="long_wait_flagged_on"
    )
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(
        [world.referral_x.pk, world.referral_y.pk]
    )

    with CaptureQueriesContext(connection) as again:
        queryset_update_logged(waiting, long_wait_flagged_on=today)

    assert log_inserts(again) == 0  # nothing changed, nothing logged


# The admin's viewer ---------------------------------------------------------------------------


@pytest.fixture
def many_reads(world):
    """150 read rows, more than one page of the admin's list (100)."""
    referrals_log_read(world.users["coord_x"], range(1, 151), "export")
    return list(AuditLogEntry.objects.order_by("-timestamp", "-pk").values_list("pk", flat=True))


SEARCHES = {
    "the list": {},
    "a referral's id": {"q": "12"},
    "a username": {"q": "coordinator"},
    "a model": {"model": "programmes.referral"},
    "a channel and a day": {
        "channel__exact": "export",
        "timestamp__gte": "2026-01-01 00:00:00+00:00",
    },
    "the second page": {"p": "2"},
}


@pytest.mark.parametrize("params", SEARCHES.values(), ids=SEARCHES.keys())
def test_the_admin_log_neither_counts_nor_groups_the_whole_table(many_reads, portal_as, params):
    client = portal_as("admin")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(LOG, params)

    assert response.status_code == 200
    assert response.context["cl"].result_list
    on_log = [q["sql"] for q in queries if TABLE in q["sql"]]
    assert on_log
    assert not [sql for sql in on_log if "DISTINCT" in sql.upper()]
    assert not [sql for sql in on_log if "COUNT(" in sql.upper() and "LIMIT" not in sql.upper()]
    assert not [sql for sql in on_log if f'UPPER("{TABLE}"' in sql]


def test_the_admin_log_pages_back_in_time_without_a_total(many_reads, portal_as):
    client = portal_as("admin")

    first = client.get(LOG)
    second = client.get(LOG, {"p": "2"})

    def shown(response) -> list[int]:
        return [entry.pk for entry in response.context["cl"].result_list]

    assert shown(first) == many_reads[:100]
    assert shown(second) == many_reads[100:]
    first_page, second_page = first.content.decode(), second.content.decode()
    assert "?p=2" in first_page and "?p=1" not in first_page
    assert "?p=1" in second_page and "?p=3" not in second_page
    assert f"{len(many_reads)} " not in first_page  # no total
    assert client.get(LOG, {"p": "9"}).status_code in (200, 302)


def test_the_admin_search_for_a_number_finds_the_rows_of_that_object_only(world, portal_as):
    referrals_log_read(world.users["coord_x"], [world.referral_x, world.referral_y], "portal")
    target = world.referral_y.pk

    response = portal_as("admin").get(LOG, {"q": str(target), "model": "programmes.referral"})

    rows = response.context["cl"].result_list
    assert {(entry.object_id, entry.content_type.model) for entry in rows} == {(target, "referral")}
    expected = AuditLogEntry.objects.filter(object_id=target, content_type__model="referral")
    assert {entry.pk for entry in rows} == set(expected.values_list("pk", flat=True))
    assert portal_as("admin").get(LOG, {"q": "9" * 30}).context["cl"].result_list.count() == 0


# Indexes (PostgreSQL) ---------------------------------------------------------------------------


def plan(queryset) -> str:
    """The plan PostgreSQL would choose were the table large: sequential scans off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


@pytest.mark.postgres
def test_who_read_a_referral_and_what_a_user_read_are_answered_by_indexes(world):
    from django.contrib.contenttypes.models import ContentType

    referrals_log_read(world.users["coord_x"], [world.referral_x], "portal")
    referral_type = ContentType.objects.get_for_model(Referral)
    about = AuditLogEntry.objects.filter(content_type=referral_type, object_id=world.referral_x.pk)
    by_reader = AuditLogEntry.objects.filter(actor=world.users["coord_x"]).order_by("timestamp")
    newest = AuditLogEntry.objects.order_by("-timestamp")[:100]

    assert "auditlog_object" in plan(about.order_by("timestamp"))
    assert "auditlog_object" in plan(AuditLogEntry.objects.filter(object_id=world.referral_x.pk))
    assert "auditlog_actor_timestamp" in plan(by_reader)
    assert "timestamp" in plan(newest) and "Seq Scan" not in plan(newest)


@pytest.mark.postgres
def test_the_log_has_the_four_indexes_and_no_others():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [TABLE])
        names = {row[0] for row in cursor.fetchall()}

    assert names == {
        f"{TABLE}_pkey",
        "programmes_auditlogentry_timestamp_d3c68ebc",
        "auditlog_object",
        "auditlog_actor_timestamp",
    }
