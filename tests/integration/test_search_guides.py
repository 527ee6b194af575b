"""Council guides in the search index beside the services: found by their words in English and Welsh, kept in
their own "Guides" block on the results page, never among the services or their counts, and listed on the
category pages they are filed under."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from portal.models import ChangeKind, Guide, GuideState, ListingChange
from search import indexer, store
from tests.support.directory_factories import file_under
from tests.support.factories import make_service, make_term
from tests.support.html import parse, texts

GUIDES_BLOCK = "//section[@aria-labelledby='guides-heading']"


def make_guide(session, *, title: str, slug: str, state: GuideState = GuideState.PUBLISHED, summary: str = "",
               body: str = "", categories=(), **fields) -> Guide:
    """A guide as the editor leaves it, with the change-log row its publication (or withdrawal) appends."""
    now = datetime.now(UTC)
    published = state is not GuideState.DRAFT
    guide = Guide(slug=slug, title=title, summary=summary, body=body, state=state,
                  published_at=now if published else None, content_updated_at=now if published else None,
                  version=1 if published else 0, **fields)
    guide.categories = list(categories)
    session.add(guide)
    session.flush()
    record_change(session, guide)
    return guide


def record_change(session, guide: Guide, kind: ChangeKind = ChangeKind.UPSERT) -> None:
    session.add(ListingChange(subject_type="guide", subject_id=guide.id, kind=kind))
    session.flush()


def indexed() -> dict[str, str]:
    """Every document in the index: id -> kind."""
    index = store.open_current(Path(current_app.config["SEARCH_INDEX_DIR"]))
    with index.searcher() as searcher:
        return {fields["id"]: fields["kind"] for fields in searcher.all_stored_fields()}


def result_names(page) -> list[str]:
    return texts(page, "//ul[contains(@class, 'directory-results')]/li//h2/a")


def guide_links(page) -> list[tuple[str, str]]:
    return [(link.text_content().strip(), link.get("href")) for link in page.xpath(f"{GUIDES_BLOCK}//li//a")]


# --- the index ---------------------------------------------------------------------------------------------


def test_a_published_guide_is_found_by_words_in_its_body_once_synced(client, session):
    indexer.rebuild()
    make_guide(session, title="Getting a care needs assessment", slug="care-needs-assessment",
               summary="How the council decides what help you need.",
               body="## Before the visit\n\nWrite down what a **typical day** is like and ask for an "
                    "[advocate](https://www.example.gov.uk/hopscotch) if you want one.")

    assert indexer.sync() == 1
    page = parse(client.get("/services?q=advocate+typical"))

    assert texts(page, f"{GUIDES_BLOCK}//h2") == ["Guides"]
    assert guide_links(page) == [("Getting a care needs assessment", "/guides/care-needs-assessment")]
    assert texts(page, f"{GUIDES_BLOCK}//li//p") == ["How the council decides what help you need."]
    # A link's address is not part of what the guide says.
    assert guide_links(parse(client.get("/services?q=hopscotch"))) == []


def test_a_guide_is_found_by_its_welsh_words_and_shown_in_welsh_to_welsh_readers(client, session):
    make_guide(session, title="Support for carers", slug="support-for-carers",
               summary="Help if you look after someone.", body="You can ask for a carer's assessment.",
               title_cy="Cymorth i ofalwyr",
               summary_cy="Help os ydych chi'n gofalu am rywun.", body_cy="Gallwch ofyn am asesiad gofalwr.")
    make_guide(session, title="Paying for care", slug="paying-for-care", summary="What you might pay.",
               body="Gofalwr: the council explains charges.")
    indexer.rebuild()

    welsh = parse(client.get("/services?q=gofalwr&lang=cy"))
    assert {title for title, _ in guide_links(welsh)} == {"Cymorth i ofalwyr", "Paying for care"}
    assert texts(welsh, f"{GUIDES_BLOCK}//li[not(@lang)]//p") == ["Help os ydych chi'n gofalu am rywun."]
    # A guide without a Welsh version is listed in English, marked as English for screen readers.
    assert texts(welsh, f"{GUIDES_BLOCK}//li[@lang='en']//a") == ["Paying for care"]

    english = parse(client.get("/services?q=gofalwr&lang=en"))
    assert {title for title, _ in guide_links(english)} == {"Support for carers", "Paying for care"}


def test_draft_and_withdrawn_guides_are_not_found_and_withdrawing_removes_a_guide(client, session):
    make_guide(session, title="Direct payments draft", slug="dp-draft", state=GuideState.DRAFT,
               body="Prepaid card explained.")
    live = make_guide(session, title="Direct payments and the prepaid card", slug="direct-payments",
                      body="Your prepaid card and what it can buy.")
    indexer.rebuild()
    assert guide_links(parse(client.get("/services?q=prepaid+card"))) == [
        ("Direct payments and the prepaid card", "/guides/direct-payments")
    ]

    live.state = GuideState.WITHDRAWN
    record_change(session, live)
    indexer.sync()

    assert str(live.id) not in indexed()
    page = parse(client.get("/services?q=prepaid+card"))
    assert page.xpath(GUIDES_BLOCK) == []


def test_a_delete_change_removes_a_guide_and_a_rebuild_holds_only_published_guides(session):
    service = make_service(name="Riverside day centre")
    published = make_guide(session, title="Paying for care", slug="paying-for-care", body="Charges explained.")
    make_guide(session, title="Withdrawn guide", slug="withdrawn", state=GuideState.WITHDRAWN, body="Old.")
    make_guide(session, title="Draft guide", slug="draft", state=GuideState.DRAFT, body="Unfinished.")

    assert indexer.rebuild() == 2
    assert indexed() == {str(service.id): "service", str(published.id): "guide"}

    record_change(session, published, ChangeKind.DELETE)
    indexer.sync()
    assert indexed() == {str(service.id): "service"}


def test_search_check_counts_guides_and_reports_one_missing_from_the_index(app, session):
    make_service(name="Riverside day centre")
    make_guide(session, title="Paying for care", slug="paying-for-care", body="Charges explained.")
    indexer.rebuild()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "Index holds 1 listings and 1 guides; the database publishes 1 listings and 1 guides." in result.output

    late = make_guide(session, title="Support for carers", slug="support-for-carers", body="Carers' rights.")
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    assert f"  {late.id}" in result.output.splitlines()

    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Indexed 1 listings and 2 guides" in result.output


# --- services and guides apart ---------------------------------------------------------------------------


def test_guides_are_never_among_the_services_their_count_or_the_filter_counts(client, session):
    respite = make_term(name="Short breaks")
    service = make_service(name="Oak house short breaks", summary="Respite for carers")
    file_under(service, respite)
    make_guide(session, title="Respite and short breaks for carers", slug="respite", body="Respite explained.",
               categories=[respite])
    make_guide(session, title="Carers' rights", slug="carers-rights", body="Respite is one of them.")
    indexer.rebuild()

    page = parse(client.get("/services?q=respite"))

    assert result_names(page) == ["Oak house short breaks"]
    assert texts(page, "//h1") == ["1 result for 'respite'"]
    [box] = page.xpath("//input[@name='category']")
    assert box.get("value") == respite.slug
    assert texts(page, f"//label[@for='{box.get('id')}']") == ["Short breaks (1)"]
    assert len(guide_links(page)) == 2
    # Without words: every service, no guides.
    everything = parse(client.get("/services"))
    assert texts(everything, "//h1") == ["1 service"]
    assert everything.xpath(GUIDES_BLOCK) == []


def test_a_guide_only_search_finds_no_services_but_lists_the_guide(client, session):
    make_service(name="Riverside day centre", summary="Activities every weekday")
    make_guide(session, title="Employing a personal assistant", slug="employing-a-pa",
               body="Payroll, insurance and contracts when you employ someone.")
    indexer.rebuild()

    page = parse(client.get("/services?q=payroll+insurance"))

    assert result_names(page) == []
    assert texts(page, "//h1") == ["0 results for 'payroll insurance'"]
    assert guide_links(page) == [("Employing a personal assistant", "/guides/employing-a-pa")]


def test_did_you_mean_suggests_words_services_hold_never_a_guides_word(client, session):
    make_service(name="Befriended by phone", summary="Weekly calls")
    make_guide(session, title="Befriending", slug="befriending", body="Befriending schemes near you.")
    indexer.rebuild()

    page = parse(client.get("/services?q=befriendin"))

    assert texts(page, "//p[contains(@class, 'directory-suggestion')]//a") == ["befriended"]


def test_the_guides_block_shows_at_most_three_guides_on_the_first_page_only(client, session):
    for number in range(5):
        make_guide(session, title=f"Carers guide {number}", slug=f"carers-{number}", body="For carers.")
    for number in range(25):
        make_service(name=f"Carers group {number:02}")
    indexer.rebuild()

    first = parse(client.get("/services?q=carers"))
    assert len(guide_links(first)) == 3
    assert len(result_names(first)) == 20
    assert parse(client.get("/services?q=carers&page=2")).xpath(GUIDES_BLOCK) == []


def test_while_the_index_is_unavailable_the_page_falls_back_without_a_guides_block(client, session):
    make_service(name="Carers' café", summary="A drop-in for carers")
    make_guide(session, title="Support for carers", slug="support-for-carers", body="Carers' rights.")
    # No index built at all.

    page = parse(client.get("/services?q=carers"))

    assert result_names(page) == ["Carers' café"]
    assert page.xpath(GUIDES_BLOCK) == []


# --- category pages ----------------------------------------------------------------------------------------


def test_a_category_page_lists_published_guides_filed_under_it_its_parent_or_its_children(client, session):
    adults = make_term(name="Adult social care")
    home_care = make_term(name="Home care", parent=adults)
    night_care = make_term(name="Night care", parent=home_care)
    carers = make_term(name="Carers")
    make_guide(session, title="Paying for care", slug="paying-for-care", categories=[adults])
    make_guide(session, title="Choosing a home care agency", slug="home-care-agency", categories=[home_care])
    make_guide(session, title="Care through the night", slug="night-care", categories=[night_care])
    make_guide(session, title="Support for carers", slug="support-for-carers", categories=[carers])
    make_guide(session, title="Home care draft", slug="home-care-draft", state=GuideState.DRAFT,
               categories=[home_care])
    make_guide(session, title="Old home care guide", slug="old-home-care", state=GuideState.WITHDRAWN,
               categories=[home_care])

    page = parse(client.get(f"/categories/{home_care.slug}"))

    assert texts(page, f"{GUIDES_BLOCK}//h2") == ["Guides"]
    # Its own guides first, then those above and beneath it, alphabetically.
    assert guide_links(page) == [
        ("Choosing a home care agency", "/guides/home-care-agency"),
        ("Care through the night", "/guides/night-care"),
        ("Paying for care", "/guides/paying-for-care"),
    ]
    top = parse(client.get(f"/categories/{adults.slug}"))
    assert [title for title, _ in guide_links(top)] == [
        "Paying for care", "Care through the night", "Choosing a home care agency",
    ]


def test_a_category_without_guides_has_no_guides_section(client, session):
    term = make_term(name="Day opportunities")
    make_guide(session, title="Support for carers", slug="support-for-carers", categories=[make_term(name="Carers")])

    page = parse(client.get(f"/categories/{term.slug}"))

    assert page.xpath(GUIDES_BLOCK) == []
