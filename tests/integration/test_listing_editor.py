"""The provider's listing editor: drafts saved per section, completeness, preview, submit and withdraw."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEvent, ListingRevision, Need, RevisionState, Role, Service
from tests.support.directory_factories import add_contact, make_need
from tests.support.factories import make_organisation, make_service, make_term, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, text_of, texts

LONG_DESCRIPTION = " ".join(["Friendly sessions for young carers to relax, play games and make friends."] * 6)


def _provider(client, organisation):
    user = make_user(roles=(Role.PROVIDER,), organisations=[organisation])
    sign_in(client, user)
    return user


def _start_editing(client, service) -> ListingRevision:
    token = csrf_token(parse(client.get("/provider/listings")))
    response = client.post(f"/provider/listings/{service.id}/edit", data={"csrf_token": token})
    assert response.status_code == 302
    return db.session.scalar(sa.select(ListingRevision).where(ListingRevision.service_id == service.id))


def _with_selects(page, fields: dict) -> dict:
    """The form as a browser posts it: each <select> sends its chosen (or first) option too."""
    data = {}
    for select in page.xpath("//main//form//select[@name]"):
        chosen = select.xpath("./option[@selected]/@value") or select.xpath("./option/@value")
        data[select.get("name")] = chosen[0] if chosen else ""
    return form_data(page, **{**data, **fields})


def _save(client, service, section: str, **fields):
    url = f"/provider/listings/{service.id}/edit/{section}"
    page = parse(client.get(url))
    return client.post(url, data=_with_selects(page, fields))


def _task_status(page, title: str) -> str:
    return texts(page, f"//li[contains(@class, 'govuk-task-list__item')][.//*[normalize-space()='{title}']]"
                       "//*[contains(@class, 'govuk-task-list__status')]")[0]


def _public_description(client, service) -> list[str]:
    page = parse(client.get(f"/services/{service.id}"))
    return texts(page, "//h2[@id='what-it-is']/following-sibling::p")


def _complete_required_sections(client, service, term, *, description=LONG_DESCRIPTION):
    assert _save(client, service, "about", name="Young carers club", summary="Games and friends for young carers",
                 description=description, status="active").status_code == 302
    assert _save(client, service, "who", minimum_age="8", maximum_age="18").status_code == 302
    assert _save(client, service, "where", attendance="online").status_code == 302
    assert _save(client, service, "costs", is_free="yes").status_code == 302
    assert _save(client, service, "contact", url="https://carers.example.org").status_code == 302
    assert _save(client, service, "categories", taxonomy_terms=term.slug).status_code == 302


def test_a_provider_edits_a_published_listing_and_residents_see_the_old_text_until_approval(client):
    organisation = make_organisation(name="Carers Trust")
    term = make_term(name="Carers")
    service = make_service(organisation=organisation, name="Carers club", summary="Old summary",
                           description="The old description.")
    user = _provider(client, organisation)

    revision = _start_editing(client, service)
    assert revision.state is RevisionState.DRAFT
    assert revision.data["description"] == "The old description."

    # A mistake keeps everything typed and says what is wrong.
    url = f"/provider/listings/{service.id}/edit/about"
    too_long = "x" * 201
    response = client.post(url, data=form_data(parse(client.get(url)), name="Young carers club", summary=too_long,
                                               description="Kept **words**"))
    page = parse(response)
    assert response.status_code == 200
    assert texts(page, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Summary must be 200 characters or fewer"]
    assert page.xpath("//input[@name='name']/@value") == ["Young carers club"]
    assert texts(page, "//textarea[@name='description']") == ["Kept **words**"]
    assert texts(page, "//textarea[@name='summary']") == [too_long]

    _complete_required_sections(client, service, term)
    db.session.refresh(revision)
    assert revision.data["name"] == "Young carers club"
    assert {"about", "who", "where", "costs", "contact", "categories"} <= set(revision.sections_saved)

    tasks = parse(client.get(f"/provider/listings/{service.id}/edit"))
    assert _task_status(tasks, "About the service") == "Completed"
    assert texts(tasks, "//h2[@id='completeness']") == ["7 of 10 things done"]
    assert texts(tasks, "//ul[contains(@class, 'app-completeness-missing')]/li") == [
        "No opening times", "No accessibility information", "No languages"]

    # Still the published words for residents.
    assert "The old description." in _public_description(client, service)

    token = csrf_token(tasks)
    response = client.post(f"/provider/listings/{service.id}/submit", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.endswith(f"/provider/listings/{service.id}/submitted")
    confirmation = parse(client.get(response.location))
    assert texts(confirmation, "//div[contains(@class, 'govuk-panel')]//h1") == ["Listing submitted for review"]
    assert any("stays live until the council approves" in text for text in texts(confirmation, "//main//p"))
    db.session.refresh(revision)
    assert revision.state is RevisionState.SUBMITTED and revision.submitted_at is not None
    assert "The old description." in _public_description(client, service)
    assert db.session.get(Service, service.id).name == "Carers club"

    # A submitted change cannot be edited until it is withdrawn.
    assert client.get(url).status_code == 302
    tasks = parse(client.get(f"/provider/listings/{service.id}/edit"))
    response = client.post(f"/provider/listings/{service.id}/withdraw", data={"csrf_token": csrf_token(tasks)})
    assert response.status_code == 302
    db.session.refresh(revision)
    assert revision.state is RevisionState.DRAFT and revision.submitted_at is None
    assert client.get(url).status_code == 200

    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(revision.id), AuditEvent.actor_id == user.id)
    ).all()
    assert {"listing_draft.started", "listing_draft.section_saved", "listing_draft.submitted",
            "listing_draft.withdrawn"} <= set(actions)
    saved = db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.subject_id == str(revision.id), AuditEvent.action == "listing_draft.section_saved",
        AuditEvent.details["section"].as_string() == "about"))
    assert saved.before["description"] == "The old description."
    assert saved.after["name"] == "Young carers club"


def test_editing_again_opens_the_same_draft_rather_than_a_second_one(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    _provider(client, organisation)

    first = _start_editing(client, service)
    second = _start_editing(client, service)

    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListingRevision)
                             .where(ListingRevision.service_id == service.id)) == 1


def test_submit_is_refused_until_the_required_sections_are_complete(client):
    organisation = make_organisation(approved=False)
    _provider(client, organisation)
    page = parse(client.get(f"/provider/organisations/{organisation.id}/listings/new"))
    response = client.post(f"/provider/organisations/{organisation.id}/listings/new",
                           data=form_data(page, name="Sunday lunch club", summary="A hot meal and company",
                                          status="active"))
    assert response.status_code == 302
    service = db.session.scalar(sa.select(Service).where(Service.organisation_id == organisation.id))

    tasks = parse(client.get(f"/provider/listings/{service.id}/edit"))
    assert _task_status(tasks, "About the service") == "Completed"
    assert _task_status(tasks, "Who it is for") == "Not started"
    assert not tasks.xpath("//form[contains(@action, '/submit')]")
    response = client.post(f"/provider/listings/{service.id}/submit", data={"csrf_token": csrf_token(tasks)})
    assert response.status_code == 302
    revision = db.session.scalar(sa.select(ListingRevision).where(ListingRevision.service_id == service.id))
    assert revision.state is RevisionState.DRAFT


def test_a_new_listing_is_not_public_before_approval(client):
    organisation = make_organisation()
    term = make_term(name="Lunch clubs")
    _provider(client, organisation)
    page = parse(client.get(f"/provider/organisations/{organisation.id}/listings/new"))
    client.post(f"/provider/organisations/{organisation.id}/listings/new",
                data=form_data(page, name="Sunday lunch club", summary="A hot meal", status="active"))
    service = db.session.scalar(sa.select(Service).where(Service.organisation_id == organisation.id))
    assert service.published_at is None and service.name == "Sunday lunch club"

    _complete_required_sections(client, service, term)
    tasks = parse(client.get(f"/provider/listings/{service.id}/edit"))
    client.post(f"/provider/listings/{service.id}/submit", data={"csrf_token": csrf_token(tasks)})

    assert client.get(f"/services/{service.id}").status_code == 404
    listings = parse(client.get("/provider/listings"))
    row = listings.xpath("//tr[th[normalize-space()='Young carers club']]")[0]
    assert "Submitted for review" in text_of(row) and "Not published yet" in text_of(row)


def test_your_listings_shows_each_listing_with_its_state_and_a_way_to_add_one(client):
    organisation = make_organisation(name="Age Concern")
    make_service(organisation=organisation, name="Lunch club")
    _provider(client, organisation)

    page = parse(client.get("/provider/listings"))

    assert texts(page, "//h2") [:1] == ["Age Concern"]
    row = page.xpath("//tr[th[normalize-space()='Lunch club']]")[0]
    assert "Published" in text_of(row)
    assert page.xpath(f"//a[@href='/provider/organisations/{organisation.id}/listings/new']")


def test_another_organisations_listing_cannot_be_edited_previewed_or_submitted(client):
    theirs = make_service(organisation=make_organisation(), name="Not yours")
    other_user = make_user(roles=(Role.PROVIDER,), organisations=[theirs.organisation])
    sign_in(client, other_user)
    _start_editing(client, theirs)  # they have a draft
    mine = make_organisation()
    _provider(client, mine)
    token = csrf_token(parse(client.get("/provider/listings")))

    assert client.get(f"/provider/listings/{theirs.id}/edit").status_code == 404
    assert client.post(f"/provider/listings/{theirs.id}/edit", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/provider/listings/{theirs.id}/edit/about").status_code == 404
    assert client.post(f"/provider/listings/{theirs.id}/edit/about",
                       data={"csrf_token": token, "name": "Hijacked", "summary": "x"}).status_code == 404
    assert client.get(f"/provider/listings/{theirs.id}/preview").status_code == 404
    assert client.post(f"/provider/listings/{theirs.id}/submit", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/provider/listings/{theirs.id}/withdraw", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/provider/organisations/{theirs.organisation_id}/listings/new").status_code == 404
    revision = db.session.scalar(sa.select(ListingRevision).where(ListingRevision.service_id == theirs.id))
    assert revision.data["name"] == "Not yours"


def test_the_preview_shows_the_draft_as_the_public_page_with_a_not_published_banner(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation, name="Carers club", description="Old words.")
    _provider(client, organisation)
    _start_editing(client, service)
    _save(client, service, "about", name="Carers club", summary="New summary", description="New words.",
          status="active")
    _save(client, service, "costs", is_free="no", **{"prices-0-option": "Session", "prices-0-amount": "£12.5",
                                                     "prices-0-unit": "session"})

    page = parse(client.get(f"/provider/listings/{service.id}/preview"))

    assert any("Preview: this is not published" in text
               for text in texts(page, "//div[contains(@class, 'govuk-notification-banner')]"))
    assert texts(page, "//h1") == ["Carers club"]
    assert "New words." in texts(page, "//h2[@id='what-it-is']/following-sibling::p")
    assert texts(page, "//ul[contains(@class, 'directory-costs')]/li") == ["Session: £12.50 per session"]
    assert "Old words." in _public_description(client, service)


def test_prices_are_stored_in_pence_and_bad_amounts_are_explained(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    _provider(client, organisation)
    revision = _start_editing(client, service)

    bad = _save(client, service, "costs", is_free="no", **{"prices-0-amount": "twelve"})
    assert texts(parse(bad), "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter an amount in pounds and pence, like 12.50"]
    assert parse(bad).xpath("//input[@name='prices-0-amount']/@value") == ["twelve"]

    _save(client, service, "costs", is_free="no", **{"prices-0-amount": "£1,234.05", "prices-0-unit": "hour"})
    db.session.refresh(revision)
    assert revision.data["cost_options"] == [
        {"option": "", "amount_pence": 123405, "unit": "hour", "amount_description": ""}]


def test_descriptions_are_sanitised_and_bad_links_and_websites_are_refused(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    _provider(client, organisation)
    revision = _start_editing(client, service)

    bad_link = _save(client, service, "about", name="Club", summary="Summary",
                     description="[Click](javascript:alert(1))", status="active")
    assert texts(parse(bad_link), "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Links must start with http://, https://, mailto: or tel:, like https://www.example.org"]
    bad_site = _save(client, service, "contact", url="javascript:alert(1)")
    assert texts(parse(bad_site), "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter a website address that starts with http:// or https://, like https://www.example.org"]

    _save(client, service, "about", name="Club", summary="Summary", status="active",
          description='Tea & cake <script>alert(1)</script><b onclick="x()">bold</b>')
    db.session.refresh(revision)
    assert revision.data["description"] == "Tea & cake <b>bold</b>"


def test_places_postcodes_are_checked_and_opening_times_saved(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    _provider(client, organisation)
    revision = _start_editing(client, service)

    bad = _save(client, service, "where", attendance="in_person",
                **{"places-0-address_1": "1 High Street", "places-0-postcode": "not a postcode"})
    errors = texts(parse(bad), "//div[contains(@class, 'govuk-error-summary')]//li")
    assert "Enter a full UK postcode, like AM1 1AA" in errors

    _save(client, service, "where", attendance=["in_person", "by_phone"],
          **{"places-0-address_1": "1 High Street", "places-0-postcode": "am11aa",
             "openings-0-opens_at": "9.30", "openings-0-closes_at": "1700"})
    db.session.refresh(revision)
    assert revision.data["locations"][0]["postcode"] == "AM1 1AA"
    assert revision.data["schedules"] == [{"byday": "MO", "opens_at": "09:30", "closes_at": "17:00", "notes": ""}]
    assert revision.data["in_person"] and revision.data["by_phone"] and not revision.data["online"]


def test_needs_are_offered_with_send_needs_grouped_and_saved(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    autism = make_need(name="Autism", send=True)
    make_need(name="Dementia")
    add_contact(service, name="Sam", phones=("01632 960000",))
    _provider(client, organisation)
    revision = _start_editing(client, service)

    page = parse(client.get(f"/provider/listings/{service.id}/edit/who"))
    legends = texts(page, "//fieldset[.//input[@name='needs']]/legend")
    assert legends == ["Special educational needs and disabilities (SEND)", "Other needs"]

    _save(client, service, "who", needs=autism.slug, minimum_age="12", maximum_age="5")
    db.session.refresh(revision)
    assert revision.data["needs"] == []  # refused: ages reversed
    _save(client, service, "who", needs=autism.slug, minimum_age="5", maximum_age="12")
    db.session.refresh(revision)
    assert revision.data["needs"] == [db.session.get(Need, autism.id).slug]
    assert revision.data["contacts"][0]["phones"][0]["number"] == "01632 960000"


def test_every_editor_page_has_unique_ids_and_labelled_fields(client):
    organisation = make_organisation()
    service = make_service(organisation=organisation)
    make_need(name="Autism", send=True)
    make_need(name="Dementia")
    parent = make_term(name="Children")
    make_term(name="Play", parent=parent)
    _provider(client, organisation)
    _start_editing(client, service)

    urls = [f"/provider/listings/{service.id}/edit", f"/provider/listings/{service.id}/preview", "/provider/listings",
            f"/provider/organisations/{organisation.id}/listings/new"]
    urls += [f"/provider/listings/{service.id}/edit/{key}" for key in
             ("about", "who", "where", "costs", "contact", "accessibility", "categories", "languages")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = parse(response)
        ids = page.xpath("//@id")
        assert len(ids) == len(set(ids)), (url, sorted({i for i in ids if ids.count(i) > 1}))
        for field in page.xpath("//main//input[not(@type='hidden')] | //main//textarea | //main//select"):
            assert page.xpath(f"//label[@for='{field.get('id')}']"), (url, field.get("name"))
