"""The council's direct-payments audit: journals filtered and paged, the exceptions queue and its reviews, the
unusual-pattern check (each pattern recorded once), surplus reclaimed, and who may see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.data import dp_audit
from portal.data.statements import UK
from portal.models import AuditEvent, ExceptionKind, JournalKind, Role, SpendingException
from portal.payments.spending import record_exception
from tests.support.factories import make_organisation, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts
from tests.support.ledger_stories import capture, credit, make_order, reclaim
from tests.support.money_factories import make_dp_account


@pytest.fixture
def officer(session):
    return make_user(name="Olu Officer", roles=(Role.COUNCIL_DP_OFFICER,))


def test_the_journals_page_filters_by_direct_payment_and_type(client, officer):
    dp = make_dp_account(budget_pence=10_000)
    other = make_dp_account(budget_pence=7_000)
    order = make_order(dp, pence=2_500)
    capture(order, 2_000)
    sign_in(client, officer)

    everything = parse(client.get(f"/council/direct-payments/journals?account={dp.reference.lower()}&lang=en"))
    captures = parse(client.get(f"/council/direct-payments/journals?account={dp.reference}&kind=capture&lang=en"))

    assert sorted(key.split(":")[0] for key in everything.xpath("//tr/@data-journal")) == [
        "capture", "hold", "test-allocation"]
    assert f"test-allocation:{other.id}:0" not in everything.xpath("//tr/@data-journal")
    assert captures.xpath("//tr/@data-journal") == [f"capture:{order.id}"]
    lines = texts(captures, "//li[contains(@class,'app-journal-line')]")
    assert f"dp:{dp.id}:held: -£25.00" in lines and f"dp:{dp.id}:available: £5.00" in lines


def test_the_journals_page_finds_a_ledger_account_by_its_code_and_pages_the_rest(client, officer):
    for _ in range(27):
        make_dp_account(budget_pence=1_000)
    sign_in(client, officer)

    first = parse(client.get("/council/direct-payments/journals?account=council:funding&lang=en"))
    second = parse(client.get("/council/direct-payments/journals?account=council:funding&page=2&lang=en"))

    assert texts(first, "//p[contains(@class,'app-journal-count')]") == ["27 journals"]
    assert len(first.xpath("//tr/@data-journal")) == 25 and len(second.xpath("//tr/@data-journal")) == 2
    assert client.get("/council/direct-payments/journals?account=council:funding&page=3").status_code == 404


def test_a_backwards_date_range_is_an_error_on_the_journals_page(client, officer):
    sign_in(client, officer)

    page = parse(client.get("/council/direct-payments/journals?date_from=2026-11-20&date_to=2026-11-01&lang=en"))

    assert texts(page, "//div[contains(@class,'govuk-error-summary')]//li") == [
        "The end date must be the same as or after the start date"]


def test_an_officer_reviews_an_exception_with_a_note_and_it_leaves_the_queue(client, session, officer):
    dp = make_dp_account()
    waiting = record_exception(ExceptionKind.OUTSIDE_PLAN, dp_account=dp, details={"offer": "Gym membership"})
    session.flush()
    sign_in(client, officer)
    queue = parse(client.get("/council/direct-payments/exceptions?lang=en"))
    assert texts(queue, "//p[contains(@class,'app-exception-count')]") == [
        "1 exception waiting for review, oldest first"]

    path = f"/council/direct-payments/exceptions/{waiting.id}/review"
    empty = parse(client.post(path, data=form_data(parse(client.get(path)), note="  ")))
    assert texts(empty, "//div[contains(@class,'govuk-error-summary')]//li") == ["Enter what you found"]
    sent = client.post(path, data=form_data(parse(client.get(path)), note="Checked with the social worker."))

    assert sent.status_code == 302
    session.refresh(waiting)
    assert waiting.reviewed_by_id == officer.id and waiting.review_note == "Checked with the social worker."
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "spending_exception.reviewed"))
    assert event.after["review_note"] == "Checked with the social worker." and event.actor_id == officer.id
    assert texts(parse(client.get("/council/direct-payments/exceptions?lang=en")),
                 "//p[contains(@class,'app-exception-count')]") == ["0 exceptions waiting for review, oldest first"]
    reviewed = parse(client.get("/council/direct-payments/exceptions?status=reviewed&lang=en"))
    assert "Checked with the social worker." in texts(reviewed, "//dd")


def test_an_exception_cannot_be_reviewed_twice(session, officer):
    found = record_exception(ExceptionKind.CARD_DECLINED, dp_account=make_dp_account())
    session.flush()
    dp_audit.review_exception(actor=officer, exception_id=found.id, note="First look")

    with pytest.raises(dp_audit.AlreadyReviewed):
        dp_audit.review_exception(actor=officer, exception_id=found.id, note="Second look")


def _placed_at(order, moment: datetime):
    order.created_at = moment
    return order


def test_unusual_patterns_are_recorded_once_each(session, officer):
    dp = make_dp_account(budget_pence=100_000)
    riverside = make_organisation(name="Riverside Home Care")
    yesterday = datetime.now(UK).replace(hour=14, minute=0, second=0, microsecond=0) - timedelta(days=1)
    for n in range(11):  # eleven orders on one day
        _placed_at(make_order(dp, pence=100, organisation=riverside),
                   (yesterday + timedelta(minutes=n)).astimezone(UTC))
    night = _placed_at(make_order(dp, pence=100, organisation=riverside),
                       yesterday.replace(hour=2, minute=30).astimezone(UTC))
    capture(make_order(dp, pence=20_000, organisation=riverside), 20_000)  # one provider takes it all
    session.flush()

    first = dp_audit.record_unusual_patterns(actor=officer)
    again = dp_audit.record_unusual_patterns(actor=officer)

    assert sorted(exception.details["pattern"] for exception in first) == [
        "many_orders", "one_provider", "quiet_hours"]
    assert again == []
    quiet = next(exception for exception in first if exception.details["pattern"] == "quiet_hours")
    assert quiet.order_id == night.id
    share = next(exception for exception in first if exception.details["pattern"] == "one_provider")
    assert share.details["organisation"] == "Riverside Home Care" and share.details["share_percent"] == 100
    assert session.scalar(sa.select(sa.func.count(SpendingException.id)).where(
        SpendingException.kind == ExceptionKind.UNUSUAL_PATTERN)) == 3


def test_ordinary_spending_is_not_unusual(session, officer):
    dp = make_dp_account(budget_pence=100_000)
    capture(make_order(dp, pence=6_000, organisation=make_organisation(name="Riverside")), 6_000)
    capture(make_order(dp, pence=6_000, organisation=make_organisation(name="Oak Lodge")), 6_000)
    found = dp_audit.find_unusual_patterns(dp, settings=dp_audit.PatternSettings(quiet_hours=(0, 0)),
                                           now=datetime.now(UTC))

    assert found == []


def test_the_check_patterns_button_records_and_shows_them(client, session, officer):
    dp = make_dp_account(budget_pence=100_000)
    capture(make_order(dp, pence=15_000, organisation=make_organisation(name="Riverside")), 15_000)
    sign_in(client, officer)

    token = csrf_token(parse(client.get("/council/direct-payments/exceptions")))
    response = client.post("/council/direct-payments/exceptions/check-patterns", data={"csrf_token": token})

    assert response.status_code == 302 and "kind=unusual_pattern" in response.headers["Location"]
    page = parse(client.get(response.headers["Location"] + "&lang=en"))
    assert "Unusual pattern" in texts(page, "//h2[contains(@class,'govuk-summary-card__title')]")
    assert "one_provider" in texts(page, "//dd")


def test_the_reclaims_page_lists_surplus_returned_with_its_total(client, officer):
    dp = make_dp_account(budget_pence=0, funded_pence=0)
    credit(dp, JournalKind.ALLOCATION, 30_000, period=0, key=f"allocate:{dp.id}:0")
    reclaim(dp, 12_000, period=0)
    sign_in(client, officer)

    page = parse(client.get("/council/direct-payments/reclaims?lang=en"))

    assert texts(page, "//p[contains(@class,'app-reclaims-total')]") == ["Reclaimed in total: £120.00"]
    row = page.xpath(f"//tr[@data-journal='reclaim:{dp.id}:0']/td")
    assert [cell.text_content().strip() for cell in row][0::2] == [dp.reference, "1", "£120.00"]


@pytest.mark.parametrize("path", ["/council/direct-payments/journals", "/council/direct-payments/exceptions",
                                  "/council/direct-payments/reclaims"])
def test_only_direct_payments_officers_and_admins_audit_direct_payments(client, session, path):
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))
    assert client.get(path).status_code == 403
    sign_in(client, make_user(roles=(Role.COUNCIL_ADMIN,)))
    assert client.get(path).status_code == 200


def test_the_daily_patterns_command_records_a_new_pattern_once(app, session):
    dp = make_dp_account(budget_pence=100_000)
    capture(make_order(dp, pence=15_000, organisation=make_organisation(name="Riverside")), 15_000)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["dp", "patterns"])
    second = runner.invoke(args=["dp", "patterns"])

    assert first.exit_code == 0, first.output
    assert "1 new unusual patterns recorded" in first.output
    assert "0 new unusual patterns recorded" in second.output
    assert session.scalar(sa.select(sa.func.count(SpendingException.id)).where(
        SpendingException.dp_account_id == dp.id)) == 1
