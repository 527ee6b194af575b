"""What the council owes providers: takings pages, payout runs, the BACS file, marking runs paid (idempotently),
and Stripe Connect transfers behind STRIPE_CONNECT_PAYOUTS."""

from __future__ import annotations

import csv
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from portal.data import payables
from portal.ledger import balance, ledger_account
from portal.models import (
    AuditEvent,
    Journal,
    JournalKind,
    LedgerAccountKind,
    OrderState,
    PayoutDetailsStatus,
    PayoutRun,
    Role,
    StripeEvent,
    StripeEventStatus,
)
from tests.support.factories import make_organisation, make_user, sign_in
from tests.support.html import csrf_token, parse, texts
from tests.support.ledger_stories import capture, make_order, release, verified_payout_details
from tests.support.localstripe import event, post_event
from tests.support.money_factories import make_dp_account

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


@pytest.fixture
def owed(session):
    """Riverside (verified bank details) is owed £75 from two orders; Oak Lodge (details not yet checked) £30."""
    dp = make_dp_account(budget_pence=50_000)
    riverside = make_organisation(name="Riverside Home Care")
    oak = make_organisation(name="Oak Lodge Short Breaks")
    verified_payout_details(riverside, account_name="RIVERSIDE CARE", sort_code="040004", account_number="12345678")
    unchecked = verified_payout_details(oak, account_name="OAK LODGE", sort_code="200000", account_number="87654321")
    unchecked.status = PayoutDetailsStatus.SUBMITTED
    capture(make_order(dp, pence=6_000, organisation=riverside), 4_500)
    capture(make_order(dp, pence=3_000, organisation=riverside), 3_000)
    capture(make_order(dp, pence=3_000, organisation=oak), 3_000)
    make_order(dp, pence=2_000, organisation=riverside)  # requested, still held
    release(make_order(dp, pence=1_000, organisation=riverside), OrderState.DECLINED)
    officer = make_user(name="Olu Officer", roles=(Role.COUNCIL_DP_OFFICER,))
    return {"dp": dp, "riverside": riverside, "oak": oak, "officer": officer}


def _post(client, path: str, page_path: str, **data):
    token = csrf_token(parse(client.get(page_path)))
    return client.post(path, data={"csrf_token": token, **data})


def test_a_payout_run_pays_only_providers_with_verified_bank_details(owed):
    run = payables.create_payout_run(actor=owed["officer"])

    assert run.reference.startswith("PR-")
    assert [(line["organisation_name"], line["pence"]) for line in run.lines] == [("Riverside Home Care", 7_500)]
    assert run.total_pence == 7_500


def test_a_second_run_leaves_out_what_an_unpaid_run_already_includes(owed):
    payables.create_payout_run(actor=owed["officer"])

    with pytest.raises(payables.NothingToPay):
        payables.create_payout_run(actor=owed["officer"])
    capture(make_order(owed["dp"], pence=1_200, organisation=owed["riverside"]), 1_200)
    second = payables.create_payout_run(actor=owed["officer"])
    assert [line["pence"] for line in second.lines] == [1_200]


def test_the_bacs_file_lists_sort_code_account_name_and_pounds(client, owed):
    sign_in(client, owed["officer"])
    response = _post(client, "/council/direct-payments/payout-runs", "/council/direct-payments/payables")
    run = payables.payout_runs().runs[0]
    assert response.headers["Location"].endswith(f"/council/direct-payments/payout-runs/{run.id}")

    download = client.get(f"/council/direct-payments/payout-runs/{run.id}.csv")

    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows == [["Sort code", "Account number", "Account name", "Amount", "Reference"],
                    ["040004", "12345678", "RIVERSIDE CARE", "75.00", run.reference]]


def test_a_bank_file_cell_a_spreadsheet_would_run_is_made_harmless(owed):
    run = payables.create_payout_run(actor=owed["officer"])
    lines = [dict(line) for line in run.lines]
    lines[0]["account_name"] = "-2+3 CARE"
    run.lines = lines

    rows = list(csv.reader(io.StringIO(payables.bacs_csv(run))))

    assert rows[1][2] == "'-2+3 CARE"


def test_marking_a_run_paid_posts_payout_journals_once(client, session, owed):
    run = payables.create_payout_run(actor=owed["officer"])
    sign_in(client, owed["officer"])
    page = f"/council/direct-payments/payout-runs/{run.id}"

    first = _post(client, f"{page}/paid", page)
    again = _post(client, f"{page}/paid", "/council/direct-payments/payables")

    assert first.status_code == again.status_code == 302
    payouts = session.scalars(sa.select(Journal).where(Journal.kind == JournalKind.PAYOUT)).all()
    assert [journal.idempotency_key for journal in payouts] == [f"payout:{run.id}:{owed['riverside'].id}"]
    assert balance(ledger_account(LedgerAccountKind.PROVIDER_PAYABLE, organisation=owed["riverside"])) == 0
    assert balance(ledger_account(LedgerAccountKind.PROVIDER_PAID, organisation=owed["riverside"])) == 7_500
    assert session.get(PayoutRun, run.id).paid_at is not None
    actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(run.id))).all()
    assert sorted(actions) == ["payout_run.created", "payout_run.paid"]
    shown = parse(client.get(page + "?lang=en"))
    assert not shown.xpath("//button[@id='mark-paid']")
    assert texts(shown, "//dl[contains(@class,'app-payout-run')]//dd")[2].startswith("Paid on")


def test_the_payables_page_shows_what_each_provider_is_owed(client, owed):
    sign_in(client, owed["officer"])

    page = parse(client.get("/council/direct-payments/payables?lang=en"))

    rows = {row.xpath("string(th)").strip(): [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
            for row in page.xpath("//table[contains(@class,'app-payables')]/tbody/tr")}
    assert rows["Riverside Home Care"] == ["Verified", "£75.00", "£0.00", "£75.00"]
    assert rows["Oak Lodge Short Breaks"] == ["Waiting for council check", "£30.00", "£0.00", "£30.00"]


def test_only_direct_payments_officers_see_provider_payments(client, owed):
    sign_in(client, make_user(roles=(Role.COUNCIL_MODERATOR,)))
    assert client.get("/council/direct-payments/payables").status_code == 403

    sign_in(client, make_user(roles=(Role.COUNCIL_ADMIN,)))
    assert client.get("/council/direct-payments/payables").status_code == 200


# --- Provider takings -------------------------------------------------------------------------------------------


def test_a_provider_sees_its_orders_takings_and_payments(client, owed):
    run = payables.create_payout_run(actor=owed["officer"])
    payables.mark_run_paid(actor=owed["officer"], run_id=run.id)
    capture(make_order(owed["dp"], pence=1_000, organisation=owed["riverside"]), 1_000)
    member = make_user(roles=(Role.PROVIDER,), organisations=[owed["riverside"]])
    sign_in(client, member)

    page = parse(client.get(f"/provider/organisations/{owed['riverside'].id}/takings?lang=en"))

    summary = dict(zip(texts(page, "//dl[contains(@class,'app-takings-summary')]//dt"),
                       texts(page, "//dl[contains(@class,'app-takings-summary')]//dd"), strict=True))
    assert summary == {"Taken for delivered orders": "£85.00", "Owed to you by the council": "£10.00",
                       "Paid to you": "£75.00"}
    states = {row.get("data-state"): [cell.text_content().strip() for cell in row.xpath("td")]
              for row in page.xpath("//table[contains(@class,'app-takings-states')]/tbody/tr")}
    assert states == {"requested": ["1", "£20.00"], "declined": ["1", "£10.00"], "captured": ["3", "£85.00"]}
    assert texts(page, "//table[contains(@class,'app-takings-payouts')]/tbody/tr/th") == [run.reference]
    assert texts(page, "//table[contains(@class,'app-takings-months')]/tbody/tr/td")[0] == "3"


def test_a_provider_cannot_see_another_organisations_takings(client, owed):
    sign_in(client, make_user(roles=(Role.PROVIDER,), organisations=[owed["oak"]]))

    assert client.get(f"/provider/organisations/{owed['riverside'].id}/takings").status_code == 404
    assert client.get(f"/provider/organisations/{owed['oak'].id}/takings").status_code == 200


# --- Stripe Connect -----------------------------------------------------------------------------------------------


class _FakeConnect(BaseHTTPRequestHandler):
    """Answers POST /v1/transfers the way Stripe documents it (tests/fixtures/stripe/transfer.json)."""

    requests: list = []

    def do_POST(self):  # noqa: N802 - the standard library's name
        body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        type(self).requests.append({"path": self.path, "body": body,
                                    "idempotency_key": self.headers.get("Idempotency-Key")})
        transfer = json.loads((FIXTURES / "transfer.json").read_text())
        transfer.update(id=f"tr_test_{len(type(self).requests)}", amount=int(body["amount"][0]),
                        destination=body["destination"][0], transfer_group=body.get("transfer_group", [None])[0],
                        metadata={key[9:-1]: value[0] for key, value in body.items() if key.startswith("metadata[")})
        payload = json.dumps(transfer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def connect_app(app):
    _FakeConnect.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeConnect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {key: app.config.get(key) for key in ("STRIPE_API_BASE", "STRIPE_CONNECT_PAYOUTS")}
    app.config.update(STRIPE_API_BASE=f"http://127.0.0.1:{server.server_address[1]}", STRIPE_CONNECT_PAYOUTS=True)
    try:
        yield _FakeConnect.requests
    finally:
        app.config.update(saved)
        server.shutdown()
        server.server_close()


def test_with_connect_payouts_marking_paid_transfers_each_line_once(client, session, owed, connect_app):
    details = owed["riverside"]
    payout = session.scalar(sa.select(payables.PayoutDetails).where(
        payables.PayoutDetails.organisation_id == details.id))
    payout.stripe_connect_account_id = "acct_1MTfjCQ9PRzxEwkZ"
    run = payables.create_payout_run(actor=owed["officer"])

    payables.mark_run_paid(actor=owed["officer"], run_id=run.id)
    payables.mark_run_paid(actor=owed["officer"], run_id=run.id)

    assert len(connect_app) == 1
    sent = connect_app[0]
    assert sent["path"] == "/v1/transfers"
    assert sent["body"]["amount"] == ["7500"] and sent["body"]["destination"] == ["acct_1MTfjCQ9PRzxEwkZ"]
    assert sent["idempotency_key"] == f"payout:{run.id}:{details.id}"
    journal = session.scalar(sa.select(Journal).where(Journal.kind == JournalKind.PAYOUT))
    assert journal.stripe_object_id == "tr_test_1" == run.lines[0]["transfer_id"]

    transfer = json.loads((FIXTURES / "transfer.json").read_text())
    transfer.update(id="tr_test_1", amount=7_500, metadata={"payout_run": run.reference})
    created = event("transfer.created", transfer)
    assert post_event(client, created).status_code == 200
    session.expire_all()
    assert session.get(PayoutRun, run.id).lines[0]["transfer_confirmed"] is True
    assert session.get(StripeEvent, created["id"]).status is StripeEventStatus.PROCESSED


def test_with_connect_payouts_a_provider_without_a_stripe_account_stops_the_run(owed, connect_app):
    run = payables.create_payout_run(actor=owed["officer"])

    with pytest.raises(payables.ConnectAccountMissing):
        payables.mark_run_paid(actor=owed["officer"], run_id=run.id)
    assert connect_app == []


def test_a_transfer_event_for_an_unknown_run_is_parked(client, session):
    transfer = json.loads((FIXTURES / "transfer.json").read_text())
    transfer["metadata"] = {"payout_run": "PR-NOSUCH"}
    created = event("transfer.created", transfer)

    assert post_event(client, created).status_code == 200
    assert session.get(StripeEvent, created["id"]).status is StripeEventStatus.PARKED
