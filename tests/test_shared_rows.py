"""Rows built once per module (tests/shared_rows.py) never carry one test's changes into the
next, and a test that does not ask for them does not see them. The tests run in file order."""

import pytest

from programmes.models import Referral

pytestmark = pytest.mark.django_db


def test_a_test_changes_the_world_in_the_database_and_in_its_objects(world):
    Referral.objects.filter(pk=world.referral_x.pk).delete()
    world.users["admin"].first_name = "Changed"
    world.referral_y.status = Referral.Status.WITHDRAWN


def test_the_next_test_gets_the_world_as_it_was_built(world):
    assert Referral.objects.filter(pk=world.referral_x.pk).exists()
    assert world.users["admin"].first_name != "Changed"
    assert world.referral_y.status == Referral.Status.SUBMITTED
    assert Referral.objects.get(pk=world.referral_y.pk).status == Referral.Status.SUBMITTED


def test_a_test_without_the_world_sees_an_empty_database():
    assert not Referral.objects.exists()


def test_the_world_is_back_after_a_test_without_it(world):
    assert Referral.objects.filter(pk=world.referral_x.pk).exists()
