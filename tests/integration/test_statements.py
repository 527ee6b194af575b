"""The holder's statement: figures per 4-week period from a known set of journals, the page, the CSV and the PDF,
and who may see it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from pypdf import PdfReader

from portal.data import statements
from portal.data.statements import uk_today
from portal.models import JournalKind, Role
from tests.support.factories import make_organisation, make_term, make_user, sign_in
from tests.support.html import parse, texts
from tests.support.ledger_stories import capture, credit, make_order, reclaim, release
from tests.support.money_factories import make_dp_account


@pytest.fixture
def story(session):
    """Three periods: the account started two periods and three days ago, so period 3 (number 2) is current.

    Period 1: budget £400, contribution £50, £100 reclaimed at its end.
    Period 2: budget £400, a £25 top-up for a broken boiler, £200 reclaimed.
    Period 3 (now): budget £400; PA hours from Riverside £60 held, £45 delivered and taken; a short break from
    Oak Lodge £30 taken in full; more PA hours £20 still held; a £10 order cancelled."""
    holder = make_user(name="Hana Holder", roles=(Role.DP_HOLDER,))
    nominee = make_user(name="Nia Nominee", roles=(Role.NOMINATED_PERSON,))
    dp = make_dp_account(holder=holder, nominated_person=nominee, budget_pence=40_000, funded_pence=0,
                         start_date=uk_today() - timedelta(days=28 * 2 + 3))
    credit(dp, JournalKind.ALLOCATION, 40_000, period=0, key=f"allocate:{dp.id}:0")
    credit(dp, JournalKind.CONTRIBUTION, 5_000, period=0, key=f"contribution:{dp.id}:0")
    reclaim(dp, 10_000, period=0)
    credit(dp, JournalKind.ALLOCATION, 40_000, period=1, key=f"allocate:{dp.id}:1")
    credit(dp, JournalKind.TOP_UP, 2_500, period=1, key=f"top-up:{dp.id}:boiler", memo="Boiler broke")
    reclaim(dp, 20_000, period=1)
    credit(dp, JournalKind.ALLOCATION, 40_000, period=2, key=f"allocate:{dp.id}:2")

    riverside = make_organisation(name="Riverside Home Care")
    oak = make_organisation(name="Oak Lodge Short Breaks")
    assistants = make_term(name="Personal assistants", name_cy="Cynorthwywyr personol")
    breaks = make_term(name="Short breaks", name_cy="Seibiannau byr")
    pa_hours = make_order(dp, pence=6_000, organisation=riverside, category=assistants)
    short_break = make_order(dp, pence=3_000, organisation=oak, category=breaks, title="Weekend short break")
    make_order(dp, pence=2_000, organisation=riverside, category=assistants)
    cancelled = make_order(dp, pence=1_000, organisation=riverside, category=assistants)
    capture(pa_hours, 4_500)
    capture(short_break, 3_000)
    release(cancelled)
    return dp


def test_the_current_period_shows_what_came_in_what_was_spent_and_what_is_held(story):
    found = statements.statement(story)

    assert found.period.number == 2 and found.is_current
    assert found.opening == 57_500  # 400 + 50 - 100, then 400 + 25 - 200
    assert (found.allocations, found.top_ups, found.contributions) == (40_000, 0, 0)
    assert found.spent == 7_500
    assert found.reclaimed == 0 and found.corrections == 0
    assert found.closing == 90_000 == found.opening + found.money_in - found.spent
    assert (found.held_at_close, found.available_at_close) == (2_000, 88_000)
    assert [(spend.name, spend.pence) for spend in found.by_category] == [
        ("Personal assistants", 4_500), ("Short breaks", 3_000)]
    assert [(spend.name, spend.pence) for spend in found.by_provider] == [
        ("Riverside Home Care", 4_500), ("Oak Lodge Short Breaks", 3_000)]


def test_every_line_of_the_current_period_names_its_journal(story):
    found = statements.statement(story)

    kinds = [line.kind for line in found.lines]
    assert kinds.count(JournalKind.HOLD) == 4 and kinds.count(JournalKind.CAPTURE) == 2
    assert kinds.count(JournalKind.RELEASE) == 1 and kinds.count(JournalKind.ALLOCATION) == 1
    assert sum(line.money_in for line in found.lines) - sum(line.money_out for line in found.lines) == \
        found.closing - found.opening
    assert sum(line.held_change for line in found.lines) == found.held_at_close
    capture_line = next(line for line in found.lines if line.kind is JournalKind.CAPTURE and line.money_out == 4_500)
    assert capture_line.key.startswith("capture:") and capture_line.provider_name == "Riverside Home Care"


@pytest.mark.parametrize(("number", "expected"), [
    (0, {"opening": 0, "allocations": 40_000, "contributions": 5_000, "top_ups": 0, "reclaimed": 10_000,
         "closing": 35_000}),
    (1, {"opening": 35_000, "allocations": 40_000, "contributions": 0, "top_ups": 2_500, "reclaimed": 20_000,
         "closing": 57_500}),
])
def test_an_earlier_period_has_its_own_money_in_and_reclaim(story, number, expected):
    found = statements.statement(story, number)

    assert {name: getattr(found, name) for name in expected} == expected
    assert not found.is_current and found.spent == 0 and found.held_at_close == 0


def test_a_period_that_has_not_happened_yet_is_not_found(story):
    with pytest.raises(statements.NoSuchPeriod):
        statements.statement(story, 3)


def test_the_holder_reads_the_current_statement_on_the_page(client, story):
    sign_in(client, story.holder)

    page = parse(client.get("/direct-payment/statement?lang=en"))

    summary = dict(zip(texts(page, "//dl[contains(@class,'app-statement-summary')]//dt"),
                       texts(page, "//dl[contains(@class,'app-statement-summary')]//dd"), strict=True))
    assert summary["Opening balance"] == "£575.00"
    assert summary["Spent"] == "£75.00"
    assert summary["Closing balance"] == "£900.00"
    assert summary["Held for orders not yet paid"] == "£20.00"
    assert texts(page, "//table[contains(@class,'app-statement-providers')]//tbody//th") == [
        "Riverside Home Care", "Oak Lodge Short Breaks"]
    assert len(page.xpath("//table[contains(@class,'app-statement-lines')]//tbody/tr")) == 8
    assert page.xpath("//select[@name='period']/option[@selected]/@value") == ["2"]


def test_the_holder_can_choose_an_earlier_period(client, story):
    sign_in(client, story.holder)

    page = parse(client.get("/direct-payment/statement?period=1&lang=en"))

    summary = dict(zip(texts(page, "//dl[contains(@class,'app-statement-summary')]//dt"),
                       texts(page, "//dl[contains(@class,'app-statement-summary')]//dd"), strict=True))
    assert summary["Extra money from the council"] == "£25.00"
    assert summary["Returned to the council"] == "£200.00"
    assert any("Boiler broke" in text for text in texts(page, "//table[contains(@class,'app-statement-lines')]//td"))


def test_the_nominated_person_sees_the_statement_of_the_account_they_manage(client, story):
    sign_in(client, story.nominated_person)

    page = parse(client.get("/direct-payment/statement?lang=en"))

    assert "You are managing this direct payment for Hana Holder." in texts(page, "//main//div")[0]
    assert texts(page, "//span[contains(@class,'govuk-caption-l')]") == [f"Direct payment {story.reference}"]


def test_another_holder_cannot_see_the_statement(client, story):
    stranger = make_user(roles=(Role.DP_HOLDER,))
    make_dp_account(holder=stranger)
    sign_in(client, stranger)

    assert client.get(f"/direct-payment/statement?account={story.id}").status_code == 404
    assert client.get(f"/direct-payment/statement.csv?account={story.id}").status_code == 404
    assert client.get(f"/direct-payment/statement.pdf?account={story.id}").status_code == 404


def test_a_period_in_the_future_answers_not_found(client, story):
    sign_in(client, story.holder)

    assert client.get("/direct-payment/statement?period=9").status_code == 404
    assert client.get("/direct-payment/statement?period=soon").status_code == 404


def test_a_provider_cannot_open_statements(client, story):
    sign_in(client, make_user(roles=(Role.PROVIDER,)))

    assert client.get("/direct-payment/statement").status_code == 403


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_download_has_the_same_figures_and_every_journal(client, story):
    sign_in(client, story.holder)

    response = client.get("/direct-payment/statement.csv?lang=en")

    assert response.mimetype == "text/csv"
    assert f"statement-{story.reference}-period-3.csv" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["Opening balance"] == "575.00"
    assert summary["Closing balance"] == "900.00"
    assert summary["Riverside Home Care"] == "45.00"
    assert summary["Short breaks"] == "30.00"
    header = rows.index(["Date", "Details", "Money in (£)", "Money out (£)", "Held for orders (£)",
                         "Ledger reference"])
    lines = rows[header + 1:]
    assert len(lines) == 8
    assert sorted(row[5].split(":")[0] for row in lines) == [
        "allocate", "capture", "capture", "hold", "hold", "hold", "hold", "release"]


def test_csv_cells_that_a_spreadsheet_would_run_are_made_harmless(client, session):
    holder = make_user(roles=(Role.DP_HOLDER,))
    dp = make_dp_account(holder=holder, funded_pence=0)
    credit(dp, JournalKind.TOP_UP, 1_000, period=0, key=f"top-up:{dp.id}:x", memo='=HYPERLINK("http://evil")')
    order = make_order(dp, pence=500, organisation=make_organisation(name="@SUM(1+1)"), title="+44 call me")
    capture(order, 500)
    sign_in(client, holder)

    rows = _csv_rows(client.get("/direct-payment/statement.csv?lang=en"))

    cells = [cell for row in rows for cell in row]
    assert "'@SUM(1+1)" in cells  # the provider's name in "spent by provider"
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert any('=HYPERLINK("http://evil")' in cell for cell in cells)  # kept, but inside the description text


def test_the_pdf_download_carries_the_same_figures(client, story):
    sign_in(client, story.holder)

    response = client.get("/direct-payment/statement.pdf?lang=en")

    assert response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)
    text = " ".join(text.split())
    assert f"Statement for {story.reference}, period 3" in text
    for figure in ("Opening balance £575.00", "Spent £75.00", "Closing balance £900.00",
                   "Held for orders not yet paid £20.00", "Riverside Home Care £45.00", "Short breaks £30.00"):
        assert figure in text


def test_an_account_with_no_money_yet_has_an_empty_statement(client, session):
    holder = make_user(roles=(Role.DP_HOLDER,))
    make_dp_account(holder=holder, funded_pence=0)
    sign_in(client, holder)

    page = parse(client.get("/direct-payment/statement?lang=en"))

    assert "Nothing happened in this period" in texts(page, "//main//p")
    assert client.get("/direct-payment/statement.pdf").status_code == 200


def test_the_statement_and_its_downloads_are_in_welsh_for_a_welsh_reader(client, story):
    sign_in(client, story.holder)

    page = parse(client.get("/direct-payment/statement?lang=cy"))
    rows = _csv_rows(client.get("/direct-payment/statement.csv?lang=cy"))
    pdf = client.get("/direct-payment/statement.pdf?lang=cy")

    assert texts(page, "//h1") == ["Eich datganiad"]
    assert "Balans agoriadol" in texts(page, "//dl[contains(@class,'app-statement-summary')]//dt")
    assert ["Crynodeb", "Swm (£)"] in rows
    assert ["Cynorthwywyr personol", "45.00"] in rows  # the category's Welsh name
    assert "Cynorthwywyr personol" in texts(page, "//table[contains(@class,'app-statement-categories')]//th")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages).split())
    assert f"Datganiad ar gyfer {story.reference}, cyfnod 3" in text and "Balans terfynol" in text
