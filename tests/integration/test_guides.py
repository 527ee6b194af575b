"""Council guides: editors write, preview, publish, withdraw and restore; readers see only what is published, in
Welsh where it exists; sanitising; stale guides; the change log and the audit. Both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.data import guides
from portal.models import AuditEvent, ChangeKind, Guide, GuideState, GuideVersion, ListingChange, Role
from tests.support.factories import make_organisation, make_service, make_term, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts

NEXT_YEAR = date.today() + timedelta(days=365)
LONG_BODY = (
    "Everyone can ask for help.\n\n## Who can get an assessment\nAny adult who seems to need care.\n\n"
    "## How to ask\nCall us.\n\n## What happens next\nWe visit you.\n\n### Afterwards\nWe write to you."
)


def content(**fields) -> dict:
    values = {"title": "Getting a care needs assessment", "summary": "How to ask the council for help.",
              "body": LONG_BODY, "review_by": NEXT_YEAR, "categories": []}
    values.update(fields)
    return values


def published_guide(*, actor=None, **fields) -> Guide:
    guide = guides.create_guide(actor=actor, values=content(**fields))
    guides.publish(actor=actor, guide=guide)
    return guide


def editor():
    return make_user(name="Elin Editor", roles=(Role.COUNCIL_EDITOR,))


def guide_changes(session, guide) -> list[ChangeKind]:
    return list(session.scalars(sa.select(ListingChange.kind).where(
        ListingChange.subject_type == "guide", ListingChange.subject_id == guide.id).order_by(ListingChange.id)))


def audit_actions(session, guide) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.subject_type == "guides", AuditEvent.subject_id == str(guide.id)).order_by(AuditEvent.occurred_at)))


def guide_form(page, **fields) -> dict:
    data = form_data(page, **fields)
    data.pop("categories", None)
    return data


def date_fields(name: str, value: date) -> dict:
    return {name: [str(value.day), str(value.month), str(value.year)]}


# --- the public page --------------------------------------------------------------------------------------------


def test_a_published_guide_shows_its_title_summary_text_and_dates(client, session):
    guide = published_guide()

    page = parse(client.get(f"/guides/{guide.slug}"))

    assert texts(page, "//main//h1") == ["Getting a care needs assessment"]
    assert texts(page, "//main//p[contains(@class, 'govuk-body-l')]") == ["How to ask the council for help."]
    assert "Everyone can ask for help." in texts(page, "//div[contains(@class, 'app-guide__body')]")[0]
    dates = texts(page, "//dl[contains(@class, 'app-guide__dates')]//dt")
    assert dates == ["Last updated", "Next review due"]


def test_a_long_guide_has_a_contents_list_linking_to_each_section_heading(client, session):
    guide = published_guide()

    page = parse(client.get(f"/guides/{guide.slug}"))

    links = page.xpath("//nav[@id='guide-contents']//a")
    assert [link.text for link in links] == ["Who can get an assessment", "How to ask", "What happens next"]
    for link in links:
        target = link.get("href").removeprefix("#")
        assert page.xpath(f"//main//h2[@id='{target}']"), f"no heading with id {target}"


def test_a_short_guide_has_no_contents_list(client, session):
    guide = published_guide(body="Intro.\n\n## One\nText.\n\n## Two\nMore text.")

    page = parse(client.get(f"/guides/{guide.slug}"))

    assert page.xpath("//nav[@id='guide-contents']") == []
    assert texts(page, "//div[contains(@class, 'app-guide__body')]//h2") == ["One", "Two"]


@pytest.mark.parametrize("field", ["body", "body_cy"])
def test_scripts_frames_javascript_links_and_raw_html_never_reach_the_guide_page(client, session, field):
    nasty = ("Safe words.\n\n<script>alert('x')</script><iframe src='https://evil.example'></iframe>"
             "<img src=x onerror=alert(1)>\n\n[Click me](javascript:alert(1))\n\n"
             "<a href=\"javascript:alert(2)\">Or me</a> <h1 style='color:red'>Shouting</h1>"
             "\n\n<div onclick='steal()'>Clicky</div>")
    fields = {field: nasty}
    if field == "body_cy":
        fields.update(title_cy="Cael asesiad anghenion gofal", summary_cy="Sut i ofyn am help.")
    guide = published_guide(**fields)

    response = client.get(f"/guides/{guide.slug}?lang={'cy' if field == 'body_cy' else 'en'}")
    page = parse(response)
    body = page.xpath("//div[contains(@class, 'app-guide__body')]")[0]

    assert body.xpath(".//script | .//iframe | .//img | .//div | .//h1 | .//*[@onclick] | .//*[@style]") == []
    assert body.xpath(".//a[starts-with(translate(@href, 'JAVSCRIPT', 'javscript'), 'javascript')]") == []
    assert "alert" not in response.get_data(as_text=True)
    words = " ".join(body.text_content().split())
    assert "Safe words." in words and "Click me" in words and "Shouting" in words


def test_drafts_and_unpublished_changes_never_show_on_the_public_page(client, session):
    never_published = guides.create_guide(actor=None, values=content(title="A secret plan"))
    guide = published_guide(title="Paying for care")
    guides.save_draft(actor=None, guide=guide, values=content(title="Paying for care", body="DRAFT WORDS"))

    assert client.get(f"/guides/{never_published.slug}").status_code == 404
    page = parse(client.get(f"/guides/{guide.slug}"))
    assert "DRAFT WORDS" not in page.text_content()
    assert "Everyone can ask for help." in page.text_content()
    listed = texts(parse(client.get("/guides")), "//main//ul//a")
    assert listed == ["Paying for care"]


def test_a_withdrawn_guide_is_gone_from_the_site(client, session):
    guide = published_guide()
    guides.withdraw(actor=None, guide=guide)

    assert client.get(f"/guides/{guide.slug}").status_code == 404
    assert texts(parse(client.get("/guides")), "//main//ul//a") == []


def test_in_welsh_a_guide_with_welsh_text_shows_the_welsh(client, session):
    guide = published_guide(title_cy="Cael asesiad anghenion gofal", summary_cy="Sut i ofyn i'r cyngor am help.",
                            body_cy="Gall pawb ofyn am help.\n\n## Pwy all gael asesiad\nUnrhyw oedolyn.")

    page = parse(client.get(f"/guides/{guide.slug}?lang=cy"))

    assert texts(page, "//main//h1") == ["Cael asesiad anghenion gofal"]
    assert page.xpath("//main//h1/@lang") == []  # the page is Welsh already
    assert "Gall pawb ofyn am help." in page.text_content()
    assert page.xpath("//main//*[contains(@class, 'govuk-notification-banner')]") == []


def test_in_welsh_a_guide_without_welsh_says_so_in_welsh_and_shows_the_english_marked_as_english(client, session):
    guide = published_guide()

    page = parse(client.get(f"/guides/{guide.slug}?lang=cy"))

    notice = texts(page, "//main//div[contains(@class, 'govuk-notification-banner__content')]")
    assert notice and "Saesneg" in notice[0]
    assert page.xpath("//main//h1/@lang") == ["en"]
    assert page.xpath("//div[contains(@class, 'app-guide__body')]/@lang") == ["en"]
    assert texts(page, "//main//h1") == ["Getting a care needs assessment"]


def test_a_guide_past_its_review_date_tells_readers_it_is_due_for_review(client, session):
    guide = published_guide(review_by=date.today() - timedelta(days=1))
    fresh = published_guide(title="Support for carers")

    stale_page = parse(client.get(f"/guides/{guide.slug}"))
    fresh_page = parse(client.get(f"/guides/{fresh.slug}"))

    assert "due for review" in texts(stale_page, "//main//*[contains(@class, 'app-guide__review-notice')]")[0]
    assert fresh_page.xpath("//main//*[contains(@class, 'app-guide__review-notice')]") == []


def test_a_safeguarding_guide_offers_exit_this_page_that_works_without_javascript(client, session):
    guide = published_guide(safeguarding=True)
    ordinary = published_guide(title="Paying for care")

    page = parse(client.get(f"/guides/{guide.slug}"))

    assert page.xpath("//div[@data-module='govuk-exit-this-page']//a/@href") == ["https://www.bbc.co.uk/weather"]
    assert parse(client.get(f"/guides/{ordinary.slug}")).xpath("//div[@data-module='govuk-exit-this-page']") == []


def test_a_guide_lists_a_few_public_services_in_its_categories_and_links_to_the_category(client, session):
    parent = make_term(name="Advice and carers", slug="advice-and-carers-x")
    carers = make_term(name="Carers' support", slug="carers-support-x", parent=parent)
    organisation = make_organisation(name="Aldermoor Carers Centre")
    service = make_service(organisation=organisation, name="Carers' cafe")
    service.taxonomy_terms = [carers]
    hidden = make_service(organisation=organisation, name="Not yet approved", published_at=None)
    hidden.taxonomy_terms = [carers]
    session.flush()
    guide = published_guide(title="Support for carers", categories=[parent.id])

    page = parse(client.get(f"/guides/{guide.slug}"))

    assert texts(page, "//ul[contains(@class, 'app-guide__services')]/li/a") == ["Carers' cafe"]
    assert f"/categories/{parent.slug}" in page.xpath("//aside[@id='guide-related']//a/@href")


def test_the_guides_page_lists_published_guides_under_their_top_level_category(client, session):
    parent = make_term(name="Advice and carers", slug="advice-and-carers-y")
    carers = make_term(name="Carers' support", slug="carers-support-y", parent=parent)
    published_guide(title="Support for carers", categories=[carers.id])
    published_guide(title="Paying for care")

    page = parse(client.get("/guides"))

    assert texts(page, "//main//section/h2") == ["Advice and carers", "Other guides"]
    assert texts(page, "//main//section[1]//li/a") == ["Support for carers"]


def test_guides_are_reachable_from_the_navigation_footer_and_home_page(client, session):
    page = parse(client.get("/"))

    assert "/guides" in page.xpath("//nav//a/@href")
    assert "/guides" in page.xpath("//div[contains(@class, 'govuk-footer')]//a/@href")
    assert "/guides" in page.xpath("//main//a/@href")


# --- publishing, history and audit -------------------------------------------------------------------------------


def test_publishing_copies_the_draft_keeps_a_version_and_tells_the_search_indexer(session):
    person = editor()
    guide = guides.create_guide(actor=person, values=content())
    assert guide_changes(session, guide) == []

    version = guides.publish(actor=person, guide=guide, note="First")

    assert (guide.state, guide.version, guide.title, guide.draft) == (
        GuideState.PUBLISHED, 1, "Getting a care needs assessment", None)
    assert guide.published_at is not None and guide.content_updated_at is not None
    assert (version.number, version.note, version.published_by_id) == (1, "First", person.id)
    assert guide_changes(session, guide) == [ChangeKind.UPSERT]
    assert audit_actions(session, guide) == ["guide.created", "guide.published"]


def test_saving_a_draft_changes_nothing_public_and_keeps_the_address_once_published(session):
    guide = published_guide(title="Paying for care")
    slug, first_updated = guide.slug, guide.content_updated_at

    guides.save_draft(actor=None, guide=guide, values=content(title="Paying for your care and support"))

    assert (guide.title, guide.slug, guide.content_updated_at) == ("Paying for care", slug, first_updated)
    assert guide.draft["title"] == "Paying for your care and support"
    assert guide_changes(session, guide) == [ChangeKind.UPSERT]  # only the first publication


def test_a_never_published_guide_takes_its_address_from_its_latest_title_and_addresses_are_unique(session):
    first = published_guide(title="Support for carers")
    draft = guides.create_guide(actor=None, values=content(title="Carers"))

    guides.save_draft(actor=None, guide=draft, values=content(title="Support for carers"))

    assert first.slug == "support-for-carers"
    assert draft.slug == "support-for-carers-2"


def test_withdrawing_and_republishing_are_recorded_for_search_and_audit(session):
    guide = published_guide()

    guides.withdraw(actor=None, guide=guide)
    with pytest.raises(guides.NotPublished):
        guides.withdraw(actor=None, guide=guide)
    guides.publish(actor=None, guide=guide)

    assert guide.state is GuideState.PUBLISHED and guide.version == 2
    assert guide_changes(session, guide) == [ChangeKind.UPSERT, ChangeKind.DELETE, ChangeKind.UPSERT]
    assert audit_actions(session, guide)[-2:] == ["guide.withdrawn", "guide.published"]


def test_restoring_an_old_version_puts_it_in_the_draft_without_changing_the_site(session):
    guide = published_guide(body="Version one text.")
    guides.save_draft(actor=None, guide=guide, values=content(body="Version two text."))
    guides.publish(actor=None, guide=guide)

    guides.restore_version(actor=None, guide=guide, number=1)

    assert guide.body == "Version two text."
    assert guide.draft["body"] == "Version one text."
    assert [v.number for v in guides.versions_of(guide)] == [2, 1]
    assert audit_actions(session, guide)[-1] == "guide.version_restored_to_draft"
    with pytest.raises(guides.VersionNotFound):
        guides.restore_version(actor=None, guide=guide, number=7)


def test_a_published_guide_without_a_draft_has_nothing_to_publish(session):
    guide = published_guide()

    with pytest.raises(guides.NothingToPublish):
        guides.publish(actor=None, guide=guide)


# --- the editors' pages -----------------------------------------------------------------------------------------


def test_an_editor_writes_previews_and_publishes_a_guide_through_the_pages(client, session):
    person = editor()
    sign_in(client, person)
    term = make_term(name="Carers' support", slug="carers-support-z")
    new_page = parse(client.get("/council/guides/new"))

    saved = client.post("/council/guides/new", data={
        **guide_form(new_page, title="Support for carers", summary="Help for people who look after someone.",
                     body="Caring can be hard.\n\n## Carer's assessment\nAsk us.", title_cy="", summary_cy="",
                     body_cy=""),
        "categories": [str(term.id)], **date_fields("review_by", NEXT_YEAR),
    })
    guide = session.scalar(sa.select(Guide))
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/council/guides/{guide.id}")
    assert client.get(f"/guides/{guide.slug}").status_code == 404

    preview = parse(client.get(f"/council/guides/{guide.id}/preview"))
    assert texts(preview, "//main//h1") == ["Support for carers"]

    overview = parse(client.get(f"/council/guides/{guide.id}"))
    published = client.post(f"/council/guides/{guide.id}/publish",
                            data={"csrf_token": csrf_token(overview), "note": "New guide"})
    assert published.status_code == 302
    public_page = parse(client.get("/guides/support-for-carers"))
    assert texts(public_page, "//main//h1") == ["Support for carers"]
    assert f"/categories/{term.slug}" in public_page.xpath("//aside//a/@href")
    assert session.scalar(sa.select(GuideVersion.note)) == "New guide"


def test_the_guide_form_keeps_what_was_typed_and_explains_each_problem_in_gov_uk_wording(client, session):
    sign_in(client, editor())
    page = parse(client.get("/council/guides/new"))

    response = client.post("/council/guides/new", data={
        **guide_form(page, title="", summary="A summary I typed", body="See [here](javascript:alert(1))",
                     title_cy="Teitl", summary_cy="", body_cy=""),
        **date_fields("review_by", date(2027, 2, 1)) | {"review_by": ["31", "2", "2027"]},
    })
    errors = parse(response)

    assert response.status_code == 200
    assert texts(errors, "//div[contains(@class, 'govuk-error-summary')]//li") == [
        "Enter a title",
        "Links must start with https://, http://, mailto: or tel:",
        "Review-by date must be a real date",
        "Enter the Welsh guide text, or leave all the Welsh fields empty",
    ]
    assert errors.xpath("//textarea[@name='summary']/text()") == ["A summary I typed"]
    assert errors.xpath("//input[@name='title_cy']/@value") == ["Teitl"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Guide)) == 0


def test_editing_a_published_guide_saves_a_draft_and_the_editor_sees_the_differences(client, session):
    sign_in(client, editor())
    guide = published_guide(title="Paying for care", body="Old line.")
    form_page = parse(client.get(f"/council/guides/{guide.id}/edit"))
    assert form_page.xpath("//input[@name='title']/@value") == ["Paying for care"]

    saved = client.post(f"/council/guides/{guide.id}/edit",
                        data={**guide_form(form_page, body="New line."), **date_fields("review_by", NEXT_YEAR)})
    assert saved.status_code == 302

    overview = parse(client.get(f"/council/guides/{guide.id}"))
    assert texts(overview, "//table[contains(@class, 'app-guide-changes')]//del") == ["Old line."]
    assert texts(overview, "//table[contains(@class, 'app-guide-changes')]//ins") == ["New line."]
    assert parse(client.get(f"/guides/{guide.slug}")).xpath(
        "string(//div[contains(@class, 'app-guide__body')])").strip() == "Old line."


def test_the_version_history_shows_what_changed_and_restores_into_the_draft(client, session):
    sign_in(client, editor())
    guide = published_guide(title="Paying for care", body="Old line.")
    guides.save_draft(actor=None, guide=guide, values=content(title="Paying for care", body="New line."))
    guides.publish(actor=None, guide=guide)

    history = parse(client.get(f"/council/guides/{guide.id}/history"))
    version_two = parse(client.get(f"/council/guides/{guide.id}/history/2"))
    restored = client.post(f"/council/guides/{guide.id}/history/1/restore",
                           data={"csrf_token": csrf_token(version_two)})

    assert texts(history, "//table//td[1]/a") == ["Version 2", "Version 1"]
    assert texts(version_two, "//table//del") == ["Old line."]
    assert restored.status_code == 302
    assert guide.draft["body"] == "Old line." and guide.body == "New line."
    assert client.get(f"/council/guides/{guide.id}/history/9").status_code == 404


def test_an_editor_withdraws_a_guide_after_confirming(client, session):
    sign_in(client, editor())
    guide = published_guide()
    confirm = parse(client.get(f"/council/guides/{guide.id}/withdraw"))

    client.post(f"/council/guides/{guide.id}/withdraw", data={"csrf_token": csrf_token(confirm)})

    assert guide.state is GuideState.WITHDRAWN
    assert client.get(f"/guides/{guide.slug}").status_code == 404


def test_editors_see_every_guide_with_its_state_welsh_version_and_stale_flag(client, session):
    sign_in(client, editor())
    published_guide(title="Paying for care", review_by=date.today() - timedelta(days=3))
    published_guide(title="Support for carers", title_cy="Cymorth i ofalwyr", body_cy="Testun.")
    guides.create_guide(actor=None, values=content(title="Employing a personal assistant"))

    page = parse(client.get("/council/guides"))
    due = parse(client.get("/council/guides/due-for-review"))

    rows = [texts(row, "./td") for row in page.xpath("//table//tbody/tr")]
    assert [row[0] for row in rows] == ["Paying for care", "Support for carers", "Employing a personal assistant"]
    assert [row[1] for row in rows] == ["Published", "Published", "Draft"]
    assert [row[2] for row in rows] == ["No", "Yes", "No"]
    assert "Due for review" in rows[0][3] and "Due for review" not in rows[1][3]
    assert texts(due, "//table//tbody//td[1]") == ["Paying for care"]


def test_the_council_home_links_editors_to_guides_and_counts_those_due_for_review(client, session):
    sign_in(client, editor())
    published_guide(review_by=date.today() - timedelta(days=3))

    page = parse(client.get("/council"))

    assert "/council/guides" in page.xpath("//main//a/@href")
    assert any("1 guide is due for review" in text for text in texts(page, "//main//li"))


# --- who may do what ---------------------------------------------------------------------------------------------


EDITOR_PAGES = ["/council/guides", "/council/guides/due-for-review", "/council/guides/new"]


@pytest.mark.parametrize("roles, expected", [
    ((Role.COUNCIL_EDITOR,), 200),
    ((Role.COUNCIL_ADMIN,), 200),
    ((Role.COUNCIL_MODERATOR,), 403),
    ((Role.COUNCIL_COMMISSIONER,), 403),
    ((Role.PROVIDER,), 403),
])
def test_only_council_editors_and_admins_may_use_the_guide_pages(client, session, roles, expected):
    guide = published_guide()
    sign_in(client, make_user(roles=roles))
    token = csrf_token(parse(client.get(f"/guides/{guide.slug}")))

    statuses = {path: client.get(path).status_code
                for path in [*EDITOR_PAGES, f"/council/guides/{guide.id}", f"/council/guides/{guide.id}/history"]}
    posted = client.post(f"/council/guides/{guide.id}/withdraw", data={"csrf_token": token}).status_code

    assert set(statuses.values()) == {expected}
    if expected == 200:
        assert posted == 302 and guide.state is GuideState.WITHDRAWN
    else:
        assert posted == 403 and guide.state is GuideState.PUBLISHED


def test_anonymous_people_are_sent_to_sign_in_from_the_guide_editor(client, session):
    response = client.get("/council/guides")

    assert response.status_code == 302 and "/account/sign-in" in response.headers["Location"]


# --- the demo borough's starter guides ------------------------------------------------------------------------


def test_the_demo_borough_publishes_its_starter_guides_in_english_and_welsh_once(client, session):
    from portal.demo.guides import load_guides

    make_term(name="Direct payment support", slug="direct-payment-support")
    first = load_guides(today=date.today())
    again = load_guides(today=date.today() + timedelta(days=1))

    published = guides.published_guides()
    assert first == {"created": 7, "changed": 0} and again == {"created": 0, "changed": 0}
    assert len(published) == 7 and all(guide.has_welsh for guide in published)
    safeguarding = [guide.slug for guide in published if guide.safeguarding]
    assert safeguarding == ["if-someone-is-at-risk"]
    page = parse(client.get("/guides/if-someone-is-at-risk?lang=cy"))
    assert page.xpath("//div[@data-module='govuk-exit-this-page']")
    assert texts(page, "//main//h1") == ["Beth i'w wneud mewn argyfwng neu os oes rhywun mewn perygl"]
    direct_payments = guides.public_guide("direct-payments-and-the-prepaid-card")
    assert [term.slug for term in direct_payments.categories] == ["direct-payment-support"]
