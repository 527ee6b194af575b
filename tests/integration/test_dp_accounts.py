"""The council's direct-payment pages: opening an account for a resident, the care-and-support plan, emergency
top-ups, client contributions, suspending and closing; and the holder's home. Both databases."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from portal.extensions import db
from portal.ledger import dp_balances
from portal.models import (
    AuditEvent,
    DirectPaymentAccount,
    DPAccountStatus,
    Journal,
    JournalKind,
    Order,
    OrderState,
    OutboxMessage,
    Role,
    User,
)
from tests.support.factories import make_organisation, make_term, make_user, sign_in
from tests.support.html import csrf_token, parse, texts
from tests.support.localstripe import make_offer, make_order

TODAY = date.today()


def _officer(client) -> User:
    officer = make_user(name="Nia Officer", roles=(Role.COUNCIL_DP_OFFICER,))
    sign_in(client, officer)
    return officer


def _plan_fields(terms, **overrides) -> dict:
    fields = {
        "categories": [term.slug for term in terms], "provider_choice": "any", "budget": "480",
        "contribution": "40.50", "contingency": "50", "start_date": [str(TODAY.day), str(TODAY.month),
                                                                     str(TODAY.year)],
        "notes": "",
    }
    fields.update(overrides)
    return fields


def _filled_in(page, **fields) -> dict[str, list[str]]:
    """The page's form as a browser would send it (date boxes and checkboxes share a name), with ``fields``."""
    data: dict[str, list[str]] = {}
    for element in page.xpath("//main//form[@method='post']//*[self::input or self::textarea][@name]"):
        kind = element.get("type", "text")
        if kind in ("submit", "button") or (kind in ("checkbox", "radio") and element.get("checked") is None):
            continue
        value = element.text or "" if element.tag == "textarea" else element.get("value", "")
        data.setdefault(element.get("name"), []).append(value)
    data.update({name: value if isinstance(value, list) else [value] for name, value in fields.items()})
    return data


def _post_form(client, path: str, **fields):
    return client.post(path, data=_filled_in(parse(client.get(path)), **fields))


def _errors(response) -> list[str]:
    return texts(parse(response), "//div[contains(@class, 'govuk-error-summary')]//li")


def _emails_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.recipient == address)))


def _account(reference_holder_email: str) -> DirectPaymentAccount:
    return db.session.scalar(sa.select(DirectPaymentAccount).join(User, User.id == DirectPaymentAccount.holder_id)
                             .where(User.email == reference_holder_email))


def _make_account(**fields) -> DirectPaymentAccount:
    from tests.support.money_factories import make_dp_account

    fields.setdefault("start_date", TODAY - timedelta(days=3))
    return make_dp_account(**fields)


def _open_order(dp, pence: int) -> Order:
    return make_order(dp, units=1, state=OrderState.ACCEPTED, offer=make_offer(price_pence=pence))


# --- Opening an account ---------------------------------------------------------------------------------------


def test_an_officer_opens_an_account_for_a_new_resident_who_is_emailed_a_link_to_set_a_password(client, session):
    _officer(client)
    parent = make_term(name="Support at home")
    child = make_term(name="Personal assistants", parent=parent)

    response = _post_form(client, "/council/direct-payments/new", holder_name="Megan Price",
                          holder_email="Megan.Price@example.org", **_plan_fields([parent]))

    assert response.status_code == 302, _errors(response)
    account = _account("megan.price@example.org")
    assert re.fullmatch(r"DP-[2345679ACDEFGHJKMNPQRTXYZ]{6}", account.reference)
    assert urlsplit(response.headers["Location"]).path == f"/council/direct-payments/{account.id}"
    assert account.status is DPAccountStatus.ACTIVE
    assert (account.period_budget_pence, account.client_contribution_pence, account.contingency_pence) == (
        48_000, 4_050, 5_000)
    assert account.categories == [parent] and child not in account.categories
    assert account.holder.roles == {Role.DP_HOLDER}
    [email] = _emails_to("megan.price@example.org")
    assert account.reference in email.body
    link = urlsplit(re.search(r"https?://\S+/account/reset-password/\S+", email.body).group(0)).path
    assert client.get(link).status_code == 200  # the link lets them choose a password
    page = parse(client.get(f"/council/direct-payments/{account.id}"))
    assert "£480.00" in texts(page, "//*[@id='plan']//dd")
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(account.id))) == \
        "dp.account_opened"


def test_an_existing_user_becomes_the_holder_and_a_nominated_person_is_invited(client, session):
    _officer(client)
    term = make_term(name="Short breaks")
    existing = make_user(email="david@example.org", name="David Hughes")

    response = _post_form(client, "/council/direct-payments/new", holder_name="David Hughes",
                          holder_email="david@example.org", nominee_name="Sian Hughes",
                          nominee_email="sian@example.org", **_plan_fields([term]))

    assert response.status_code == 302, _errors(response)
    account = _account("david@example.org")
    assert account.holder_id == existing.id
    assert Role.DP_HOLDER in existing.roles
    assert account.nominated_person.email == "sian@example.org"
    assert account.nominated_person.roles == {Role.NOMINATED_PERSON}
    [holder_email] = _emails_to("david@example.org")
    assert "/account/reset-password/" not in holder_email.body and "/account/sign-in" in holder_email.body
    [nominee_email] = _emails_to("sian@example.org")
    assert "David Hughes" in nominee_email.subject and "/account/reset-password/" in nominee_email.body


def test_a_second_open_account_for_the_same_person_is_refused(client, session):
    _officer(client)
    term = make_term(name="Short breaks")
    holder = make_user(email="farah@example.org", roles=(Role.DP_HOLDER,))
    _make_account(holder=holder)

    response = _post_form(client, "/council/direct-payments/new", holder_name="Farah Iqbal",
                          holder_email="farah@example.org", **_plan_fields([term]))

    assert response.status_code == 400
    assert _errors(response) == ["This person already has a direct payment account. Change that account's plan "
                                 "instead"]


def test_the_plan_form_explains_what_is_wrong(client, session):
    _officer(client)
    term = make_term(name="Short breaks")

    response = _post_form(client, "/council/direct-payments/new", holder_name="", holder_email="not-an-email",
                          **_plan_fields([term], budget="lots", contribution="600", categories=[],
                                         provider_choice="listed", start_date=["31", "2", "2027"]))

    assert response.status_code == 400
    assert set(_errors(response)) >= {
        "Enter the full name of the person receiving the direct payment",
        "Enter an email address in the correct format, like name@example.com",
        "Budget must be an amount of money, like 480 or 480.50",
        "Select what the direct payment may be spent on",
        "Select the approved providers the holder may buy from",
        "Start date must be a real date",
    }
    assert session.scalar(sa.select(sa.func.count(DirectPaymentAccount.id))) == 0


# --- The plan -------------------------------------------------------------------------------------------------


def test_changing_the_plan_is_audited_with_the_values_before_and_after(client, session):
    officer = _officer(client)
    breaks, day = make_term(name="Short breaks"), make_term(name="Day activities")
    allowed = make_organisation(name="Willow Day Centre")
    dp = _make_account(budget_pence=40_000, categories=[breaks])

    response = _post_form(client, f"/council/direct-payments/{dp.id}/plan",
                          categories=[breaks.slug, day.slug], budget="450", provider_choice="listed",
                          providers=[str(allowed.id)])

    assert response.status_code == 302, _errors(response)
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "dp.plan_changed"))
    assert event.actor_id == officer.id and event.subject_id == str(dp.id)
    assert event.before == {"allow_any_provider": True, "categories": [breaks.slug], "period_budget_pence": 40_000,
                            "providers": []}
    assert event.after == {"allow_any_provider": False, "categories": sorted([breaks.slug, day.slug]),
                           "period_budget_pence": 45_000, "providers": [str(allowed.id)]}


def test_the_start_date_cannot_move_once_money_has_been_paid_in(client, session):
    _officer(client)
    term = make_term(name="Short breaks")
    dp = _make_account(categories=[term])
    later = TODAY + timedelta(days=7)

    response = _post_form(client, f"/council/direct-payments/{dp.id}/plan",
                          start_date=[str(later.day), str(later.month), str(later.year)])

    assert response.status_code == 400
    assert _errors(response) == ["Start date cannot change once money has been paid into the account"]


# --- Top-ups and contributions -----------------------------------------------------------------------------------


def test_a_top_up_is_checked_then_added_once_even_when_the_button_is_pressed_twice(client, session):
    _officer(client)
    dp = _make_account(budget_pence=10_000)
    path = f"/council/direct-payments/{dp.id}/top-up"

    answered = _post_form(client, path, amount="£125.50", reason="Main carer is in hospital this week")
    check_path = urlsplit(answered.headers["Location"])
    check_page = parse(client.get(f"{check_path.path}?{check_path.query}"))
    assert texts(check_page, "//*[@id='top-up-answers']//dd[contains(@class, 'value')]") == [
        "£125.50", "Main carer is in hospital this week"]
    data = _filled_in(check_page)
    first = client.post(check_path.path, data=data)
    second = client.post(check_path.path, data=data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    journals = session.scalars(sa.select(Journal).where(Journal.kind == JournalKind.TOP_UP)).all()
    assert len(journals) == 1 and journals[0].memo == "Main carer is in hospital this week"
    assert dp_balances(dp).available == 10_000 + 12_550
    done = parse(client.get(first.headers["Location"]))
    assert "£125.50" in texts(done, "//*[@id='top-up-panel']")[0]


def test_the_top_up_amount_must_be_money(client, session):
    _officer(client)
    dp = _make_account()

    response = _post_form(client, f"/council/direct-payments/{dp.id}/top-up", amount="0", reason="")

    assert response.status_code == 400
    assert _errors(response) == ["Amount must be more than £0", "Enter why the top-up is needed"]


def test_a_client_contribution_received_becomes_available_once_per_period(client, session):
    _officer(client)
    dp = _make_account(budget_pence=40_000, funded_pence=36_000, client_contribution_pence=4_000)
    path = f"/council/direct-payments/{dp.id}/contribution"

    recorded = _post_form(client, path, period="0")
    again = parse(client.get(path))

    assert recorded.status_code == 302
    assert dp_balances(dp).available == 40_000
    assert texts(again, "//*[@id='nothing-to-record']") == ["There is no contribution waiting to be recorded."]


# --- Suspending and closing ------------------------------------------------------------------------------------


def test_closing_is_refused_while_an_order_is_open(client, session):
    _officer(client)
    dp = _make_account(budget_pence=20_000)
    _open_order(dp, 5_000)

    page = parse(client.get(f"/council/direct-payments/{dp.id}/close"))
    response = client.post(f"/council/direct-payments/{dp.id}/close", data={"csrf_token": csrf_token(page)})

    assert response.status_code == 302
    assert db.session.get(DirectPaymentAccount, dp.id).status is DPAccountStatus.ACTIVE
    assert texts(page, "//*[@id='cannot-close']")
    assert dp_balances(dp).held == 5_000


def test_closing_returns_what_is_left_to_the_council(client, session):
    _officer(client)
    dp = _make_account(budget_pence=20_000)

    response = _post_form(client, f"/council/direct-payments/{dp.id}/close")

    assert response.status_code == 302
    closed = db.session.get(DirectPaymentAccount, dp.id)
    assert closed.status is DPAccountStatus.CLOSED and closed.closed_at is not None
    assert dp_balances(closed).available == 0
    assert session.scalar(sa.select(Journal.kind).where(Journal.idempotency_key == f"reclaim:{dp.id}:close")) is \
        JournalKind.RECLAIM


def test_a_suspended_account_can_be_reopened(client, session):
    _officer(client)
    dp = _make_account()
    account_page = f"/council/direct-payments/{dp.id}"

    token = csrf_token(parse(client.get(account_page)))
    client.post(f"{account_page}/suspend", data={"csrf_token": token, "reason": "Plan under review"})
    assert db.session.get(DirectPaymentAccount, dp.id).status is DPAccountStatus.SUSPENDED
    client.post(f"{account_page}/reopen", data={"csrf_token": token})

    assert db.session.get(DirectPaymentAccount, dp.id).status is DPAccountStatus.ACTIVE
    assert [e for e in session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(dp.id))
                                       .order_by(AuditEvent.occurred_at))
            if e != "dp.budget_allocated"] == ["dp.account_suspended", "dp.account_reopened"]


# --- Who sees what --------------------------------------------------------------------------------------------


def test_only_direct_payments_officers_and_admins_reach_the_accounts(client, session):
    dp = _make_account()
    for roles, expected in (((Role.COUNCIL_MODERATOR,), 403), ((Role.COUNCIL_EDITOR,), 403),
                            ((Role.DP_HOLDER,), 403), ((Role.COUNCIL_ADMIN,), 200),
                            ((Role.COUNCIL_DP_OFFICER,), 200)):
        sign_in(client, make_user(roles=roles))
        assert client.get("/council/direct-payments").status_code == expected, roles
        assert client.get(f"/council/direct-payments/{dp.id}").status_code == expected, roles


def test_the_accounts_list_shows_each_accounts_balances(client, session):
    _officer(client)
    dp = _make_account(budget_pence=30_000)
    _open_order(dp, 7_500)

    page = parse(client.get("/council/direct-payments"))

    [row] = [r for r in page.xpath("//table[@id='dp-accounts']/tbody/tr") if dp.reference in r.text_content()]
    assert [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")] == [
        dp.reference, dp.holder.name, "Active", "£225.00", "£75.00"]


def test_a_holder_sees_their_own_balances_and_plan_and_never_another_holders(client, session):
    term = make_term(name="Short breaks")
    mine = _make_account(budget_pence=30_000, categories=[term])
    theirs = _make_account(budget_pence=99_000)
    _open_order(mine, 5_000)
    sign_in(client, mine.holder)

    page = parse(client.get("/direct-payment/"))

    assert texts(page, "//*[@id='balances']//dd") == ["£250.00", "£50.00", "£0.00"]
    assert texts(page, "//*[@id='plan-categories']/li") == ["Short breaks"]
    assert theirs.reference not in page.text_content() and mine.reference in page.text_content()
    assert client.get(f"/council/direct-payments/{theirs.id}").status_code == 403


def test_a_nominated_person_is_told_whose_direct_payment_they_manage(client, session):
    nominee = make_user(name="Sian Evans", roles=(Role.NOMINATED_PERSON,))
    dp = _make_account(nominated_person=nominee)
    sign_in(client, nominee)

    page = parse(client.get("/direct-payment/"))

    assert texts(page, "//*[@id='acting-for']") == [
        f"You are the nominated person managing this direct payment for {dp.holder.name}."]


def test_a_holder_without_an_account_gets_a_plain_explanation(client, session):
    sign_in(client, make_user(roles=(Role.DP_HOLDER,)))

    response = client.get("/direct-payment/")

    assert response.status_code == 200
    assert texts(parse(response), "//*[@id='no-account']")
