"""The schema comes from the migrations and keeps its rules on both databases."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Service
from tests.support.factories import make_organisation, make_service


def test_migrations_match_the_models(app, session):
    """A model change without a migration would leave production on an old schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, db.metadata) == []


def test_a_service_with_a_reversed_age_range_is_refused(session):
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            make_service(minimum_age=18, maximum_age=5)


def test_timestamps_come_back_in_utc(session):
    service = make_service(name="Day centre")
    session.expire_all()
    loaded = session.get(Service, service.id)
    assert loaded.created_at.utcoffset().total_seconds() == 0


def test_an_unknown_enum_value_is_refused_by_the_database(session):
    organisation = make_organisation()
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.execute(
                sa.text("UPDATE organisations SET verification_status = 'bogus' WHERE id = :id"),
                {"id": organisation.id if session.bind.dialect.name == "postgresql" else organisation.id.hex},
            )
