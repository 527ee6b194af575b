"""The listing JSON that drafts, moderation and history share: faithful, comparable, and safe to publish."""

from datetime import time

import pytest
import sqlalchemy as sa

from portal.data import revision_format as fmt
from portal.data.listings import InvalidListing
from portal.models import CostUnit, ListingChange, ListingVersion, Weekday
from tests.support.directory_factories import (
    add_contact,
    add_cost,
    add_language,
    add_location,
    add_opening,
    make_need,
)
from tests.support.factories import make_organisation, make_service, make_term, make_user


def full_service():
    service = make_service(name="Riverside day centre", summary="Day activities", minimum_age=18)
    add_location(service, postcode="AM1 1AA")
    add_opening(service, Weekday.MO, time(9, 30), time(16, 0))
    add_cost(service, amount_pence=1850, unit=CostUnit.HOUR)
    add_contact(service, name="Jo", phones=("01632 960001",))
    add_language(service, "cy")
    service.needs.append(make_need(name="Dementia"))
    service.taxonomy_terms.append(make_term(name="Day opportunities"))
    return service


def test_saving_a_snapshot_back_changes_nothing(session):
    """Opening a listing in the editor and saving it untouched must not look like a change to moderators."""
    service = full_service()
    session.flush()
    data = fmt.snapshot(service)

    listing = fmt.to_listing_data(data, organisation=service.organisation)
    from portal.data.listings import update_listing

    assert update_listing(actor=None, service=service, data=listing) == []
    assert fmt.differences(data, fmt.snapshot(service)) == []


def test_differences_name_each_changed_field_in_editor_order(session):
    service = full_service()
    before = fmt.snapshot(service)
    after = dict(before, summary="Day trips and activities", schedules=[], is_free=True)

    changed = fmt.differences(before, after)

    assert [(d.field, d.section) for d in changed] == [
        ("summary", "about"), ("schedules", "where"), ("is_free", "costs"),
    ]
    assert changed[0].before == "Day activities" and changed[0].after == "Day trips and activities"


def test_merging_takes_only_the_approved_fields(session):
    before = fmt.snapshot(full_service())
    proposed = dict(before, name="New name", summary="New summary")

    merged = fmt.merge(before, proposed, {"summary"})

    assert merged["summary"] == "New summary" and merged["name"] == before["name"]
    with pytest.raises(InvalidListing):
        fmt.merge(before, proposed, {"not_a_field"})


def test_publishing_updates_the_listing_keeps_a_version_and_queues_the_index(session):
    moderator = make_user()
    service = full_service()
    session.flush()
    changes_before = session.scalar(sa.select(sa.func.count(ListingChange.id)))
    data = dict(fmt.snapshot(service), description="Now open on Saturdays too.")

    version = fmt.publish(actor=moderator, service=service, data=data, note="approved")
    session.flush()

    assert service.description == "Now open on Saturdays too."
    assert version.number == 1 and version.data["description"] == "Now open on Saturdays too."
    assert session.scalar(sa.select(sa.func.count(ListingChange.id))) > changes_before
    second = fmt.publish(actor=moderator, service=service, data=dict(data, summary="Changed again"))
    session.flush()
    assert second.number == 2
    assert session.scalar(sa.select(sa.func.count(ListingVersion.id)).where(
        ListingVersion.service_id == service.id)) == 2


def test_a_first_publication_makes_a_draft_listing_public(session):
    service = make_service(name="New befriending scheme", published_at=None)
    assert not service.is_public

    fmt.publish(actor=None, service=service, data=dict(fmt.snapshot(service), summary="Weekly calls"))

    assert service.published_at is not None and service.is_public


def test_unknown_categories_and_other_organisations_places_are_refused(session):
    service = full_service()
    data = fmt.snapshot(service)
    with pytest.raises(fmt.UnknownReference):
        fmt.to_listing_data(dict(data, taxonomy_terms=["no-such-category"]), organisation=service.organisation)

    stranger = make_organisation(name="Another provider")
    theirs = make_service(organisation=stranger)
    their_place = add_location(theirs, postcode="AM2 2BB")
    session.flush()
    smuggled = dict(data, locations=[{"id": str(their_place.id), "name": "Mine now", "postcode": "AM2 2BB"}])
    with pytest.raises(fmt.UnknownReference):
        fmt.to_listing_data(smuggled, organisation=service.organisation)


def test_every_editable_field_is_in_exactly_one_section():
    names = [name for section in fmt.SECTIONS for name in section.fields]
    assert len(names) == len(set(names))
    assert set(names) == set(fmt.empty_listing())
    assert set(names) == set(fmt.FIELD_LABELS)
