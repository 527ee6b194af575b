"""A small, realistic borough for the browser tests: the records every public page has something to show from.

Made with tests/support/factories.py and committed for real, because the live server reads them from another
thread (there is no rolled-back test transaction in the browser suite).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from portal.data import accounts
from portal.extensions import db
from portal.models import (
    AccessibilityFeature,
    Contact,
    CostOption,
    CostUnit,
    Locality,
    LocalOfferAnswer,
    Location,
    Need,
    Phone,
    RegulatorBody,
    Role,
    Schedule,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    Weekday,
)
from tests.support.factories import make_organisation, make_service, make_term, make_user


@dataclass(frozen=True)
class Borough:
    """The ids and slugs the page tests fill URL arguments from."""

    organisation_id: uuid.UUID
    service_id: uuid.UUID  # every section of the service page filled in
    hidden_address_service_id: uuid.UUID  # a refuge: only the outward code may show
    send_service_id: uuid.UUID  # part of the SEND Local Offer, with its answers
    service_name: str
    parent_category_slug: str
    child_category_slug: str
    provider_email: str
    # Emailed links, as the account pages receive them.
    confirm_email_token: str
    reset_password_token: str
    invalid_token: str = "this-link-was-never-sent"
    guide_slug: str = ""  # published in English and Welsh, long enough for a contents list
    safeguarding_guide_slug: str = ""  # English only, with "Exit this page", past its review date


def _now() -> datetime:
    return datetime.now(UTC)


def _weekly(service, link: ServiceAtLocation | None, days: list[Weekday], opens: time, closes: time,
            notes: str = "") -> None:
    order = list(Weekday)
    for day in days:
        db.session.add(Schedule(service=service, service_at_location=link, byday=day,
                                position=order.index(day), opens_at=opens, closes_at=closes, notes=notes))


def _vocabularies() -> dict[str, object]:
    records = {
        "wheelchair": AccessibilityFeature(slug="wheelchair-access", name="Step-free access",
                                           name_cy="Mynediad heb risiau"),
        "loop": AccessibilityFeature(slug="hearing-loop", name="Hearing loop", name_cy="Dolen sain"),
        "dementia": Need(slug="dementia", name="Dementia", name_cy="Dementia"),
        "autism": Need(slug="autism", name="Autism", name_cy="Awtistiaeth", send=True),
        "sensory": Need(slug="sensory-impairment", name="Sensory impairment", name_cy="Nam ar y synhwyrau",
                        send=True),
        "north": Locality(slug="aldermoor-north", name="Aldermoor North", name_cy="Gogledd Aldermoor",
                          latitude=52.4862, longitude=-1.8904),
    }
    db.session.add_all(records.values())
    return records


def _guides(category, safety_category) -> dict[str, str]:
    from datetime import timedelta

    from portal.data import guides

    body = ("Everyone can ask for help. See [our website](https://www.aldermoor.example.gov.uk).\n\n"
            "## Who can get help\nAny adult.\n\n## How to ask\nCall us:\n- by phone\n- by email\n\n"
            "## What happens next\nWe visit you.")
    body_cy = ("Gall pawb ofyn am help.\n\n## Pwy all gael help\nUnrhyw oedolyn.\n\n## Sut i ofyn\nFfoniwch ni."
               "\n\n## Beth sy'n digwydd nesaf\nByddwn yn ymweld.")
    guide = guides.create_guide(actor=None, values={
        "title": "How to get a care needs assessment", "summary": "How to ask the council for help.",
        "body": body, "title_cy": "Sut i gael asesiad o anghenion gofal", "summary_cy": "Sut i ofyn am help.",
        "body_cy": body_cy, "review_by": date.today() + timedelta(days=365), "categories": [category.id]})
    guides.publish(actor=None, guide=guide)
    safe = guides.create_guide(actor=None, values={
        "title": "If someone is at risk", "summary": "Get help straight away.", "safeguarding": True,
        "body": "If someone is in immediate danger, call 999.", "review_by": date.today() - timedelta(days=2),
        "categories": [safety_category.id]})
    guides.publish(actor=None, guide=safe)
    return {"guide_slug": guide.slug, "safeguarding_guide_slug": safe.slug}


def make_borough() -> Borough:
    """Create the borough in the current app context and commit it."""
    vocab = _vocabularies()
    parent = make_term(name="Care at home", slug="care-at-home", name_cy="Gofal yn y cartref",
                       description="Help to stay safe and well in your own home.",
                       description_cy="Help i aros yn ddiogel ac yn iach yn eich cartref eich hun.")
    child = make_term(name="Home care", slug="home-care", parent=parent, name_cy="Gofal cartref",
                      description="Visits from care workers for washing, dressing and meals.",
                      description_cy="Ymweliadau gan weithwyr gofal i ymolchi, gwisgo a phrydau bwyd.")
    advice = make_term(name="Support for families", slug="support-for-families",
                       name_cy="Cymorth i deuluoedd")
    safety = make_term(name="Staying safe", slug="staying-safe", name_cy="Cadw'n ddiogel")

    agency = make_organisation(
        name="Riverside Home Care Ltd",
        description="A family-run home care agency working across Aldermoor since 1998.",
        website="https://riverside-care.example.org", email="hello@riverside-care.example.org",
        phone="01632 960 123", company_number="01234567", regulator=RegulatorBody.CQC,
        registration_id="1-000000001", registration_rating="Good",
    )
    home_care = make_service(
        organisation=agency, name="Riverside home care visits",
        summary="Care workers visit you at home to help with washing, dressing, meals and medicines.",
        description="We help adults of any age to live independently at home.\n\nVisits last from 30 minutes "
                    "to 2 hours and can be daily.",
        url="https://riverside-care.example.org/home-care", email="visits@riverside-care.example.org",
        in_person=True, by_phone=True, minimum_age=18,
        eligibility_description="Adults who live in Aldermoor.",
        fees_description="You may pay towards the cost after a financial assessment.",
        assured_date=date(2025, 4, 1), last_checked_at=_now(), published_at=_now(),
    )
    home_care.taxonomy_terms = [parent, child]
    home_care.needs = [vocab["dementia"]]
    home_care.accessibility_features = [vocab["wheelchair"], vocab["loop"]]
    home_care.languages = [ServiceLanguage(code="en"), ServiceLanguage(code="cy", note="Some of our carers")]
    home_care.cost_options = [
        CostOption(position=0, option="Weekday visits", amount_pence=2450, unit=CostUnit.HOUR),
        CostOption(position=1, option="Weekend visits", amount_pence=2875, unit=CostUnit.HOUR,
                   amount_description="Bank holidays are charged at the weekend rate."),
    ]
    office = Location(organisation=agency, name="Riverside office", address_1="12 Mill Lane",
                      city="Aldermoor", postcode="AM2 4QT", latitude=52.4801, longitude=-1.9012)
    office_link = ServiceAtLocation(service=home_care, location=office)
    db.session.add_all([office, office_link])
    _weekly(home_care, office_link, [Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH, Weekday.FR],
            time(9, 0), time(17, 0))
    _weekly(home_care, None, [Weekday.SA], time(10, 0), time(13, 0), notes="Telephone line only")
    contact = Contact(service=home_care, name="Priya Shah", title="Care coordinator",
                      email="priya@riverside-care.example.org")
    contact.phones = [Phone(number="01632 960 124", description="Office hours")]
    db.session.add(contact)
    db.session.add(ServiceArea(service=home_care, locality=vocab["north"], name="Aldermoor North"))

    refuge_charity = make_organisation(
        name="Aldermoor Women's Aid", charity_number="1100001",
        description="Safety and support for people affected by domestic abuse.",
    )
    refuge = make_service(
        organisation=refuge_charity, name="Safe house and outreach",
        summary="Safe, confidential housing and support if you are experiencing domestic abuse.",
        description="Call us first: we will arrange how to meet you safely.", in_person=True, by_phone=True,
        minimum_age=16, is_free=True, last_checked_at=_now(), published_at=_now(),
    )
    refuge.taxonomy_terms = [safety]
    hidden = Location(organisation=refuge_charity, name="Safe house", address_1="3 Confidential Row",
                      city="Aldermoor", postcode="AM5 9ZZ", latitude=52.4712, longitude=-1.8820,
                      hide_exact_address=True)
    db.session.add_all([hidden, ServiceAtLocation(service=refuge, location=hidden)])

    club = make_organisation(name="Aldermoor Sensory Play CIC", company_number="07654321",
                             regulator=RegulatorBody.OFSTED, registration_id="EY123456",
                             registration_rating="Outstanding")
    play = make_service(
        organisation=club, name="Saturday sensory play sessions",
        summary="Relaxed play sessions for children with special educational needs and disabilities.",
        minimum_age=0, maximum_age=11, is_free=False, local_offer=True,
        local_offer_description="Part of the Aldermoor SEND Local Offer.",
        local_offer_url="https://aldermoor.example.gov.uk/local-offer",
        last_checked_at=_now(), published_at=_now(),
    )
    play.taxonomy_terms = [advice]
    play.needs = [vocab["autism"], vocab["sensory"]]
    play.cost_options = [CostOption(option="Per session", amount_pence=300, unit=CostUnit.SESSION)]
    play.local_offer_answers = [
        LocalOfferAnswer(position=0, question="How does the service support children with SEND?",
                         answer="Small groups, a quiet room and staff trained in Makaton."),
        LocalOfferAnswer(position=1, question="How accessible is the setting?",
                         answer="Step-free access and an accessible toilet with a changing bench."),
    ]
    hall = Location(organisation=club, name="Community hall", address_1="Church Street", city="Aldermoor",
                    postcode="AM3 1BB", latitude=52.4901, longitude=-1.8755)
    play_link = ServiceAtLocation(service=play, location=hall)
    db.session.add_all([hall, play_link])
    _weekly(play, play_link, [Weekday.SA], time(10, 0), time(12, 0), notes="Term time only")

    provider = make_user(email="provider@riverside-care.example.org", name="Ruth Provider",
                         roles=(Role.PROVIDER,), organisations=[agency])
    newcomer = make_user(email="new.provider@example.org", name="Sam Newcomer", roles=(Role.PROVIDER,),
                         confirmed=False)
    borough = Borough(
        organisation_id=agency.id, service_id=home_care.id, hidden_address_service_id=refuge.id,
        send_service_id=play.id, service_name=home_care.name, parent_category_slug=parent.slug,
        child_category_slug=child.slug, provider_email=provider.email,
        confirm_email_token=accounts.email_confirmation_token(newcomer),
        reset_password_token=accounts.password_reset_token(provider),
        **_guides(parent, safety),
    )
    db.session.commit()
    return borough
