"""Accounts through the browser's eyes: sign-up, confirmation, sign in and out, password reset and change,
rate limits, redirects, CSRF, the outbox and a real SMTP server. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
import subprocess
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from argon2 import PasswordHasher

from portal.extensions import db
from portal.models import AuditEvent, MembershipRole, OutboxMessage, Role, User
from tests.support.factories import DEFAULT_PASSWORD, make_organisation, make_user, sign_in
from tests.support.html import csrf_token, form_data, parse, texts
from tests.support.postgres import free_port

NEW_PASSWORD = "plum orchard velvet lantern"


# Helpers ------------------------------------------------------------------------------------------------


def submit(client, path: str, *, follow: bool = False, environ: dict | None = None, **fields):
    """Open the page at ``path`` and send its form with ``fields`` filled in, as a browser would."""
    page = parse(client.get(path))
    data = form_data(page, "//main//form[@method='post']", **fields)
    action = page.xpath("//main//form[@method='post']/@action")[0]
    return client.post(action, data=data, follow_redirects=follow, environ_base=environ or {})


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.created_at)
        )
    )


def link_in(body: str, prefix: str) -> str:
    """The site path of the first link in an email body whose path starts with ``prefix``."""
    for url in re.findall(r"https?://\S+", body):
        parts = urlsplit(url)
        if parts.path.startswith(prefix):
            return parts.path
    raise AssertionError(f"no {prefix} link in: {body}")


def error_messages(document) -> list[str]:
    return texts(document, "//div[contains(@class, 'govuk-error-summary')]//li")


def heading(document) -> str:
    return texts(document, "//h1")[0]


def audit_actions(user: User | None = None) -> list[str]:
    query = sa.select(AuditEvent.action).order_by(AuditEvent.occurred_at)
    if user is not None:
        query = query.where(AuditEvent.subject_id == str(user.id))
    return list(db.session.scalars(query))


def sign_in_with_form(client, email: str, password: str = DEFAULT_PASSWORD, **kwargs):
    return submit(client, "/account/sign-in", email=email, password=password, **kwargs)


# The whole journey ----------------------------------------------------------------------------------------


def test_a_provider_signs_up_confirms_from_the_outbox_signs_in_and_out(client, session):
    answer = submit(
        client,
        "/account/sign-up",
        name="Asha Patel",
        email="  Asha@Example.ORG ",
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    assert answer.status_code == 302
    check = parse(client.get(answer.headers["Location"]))
    assert heading(check) == "Check your email"

    user = session.scalar(sa.select(User).where(User.email == "asha@example.org"))
    assert user.roles == {Role.PROVIDER}
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")

    # The newcomer's way to the email: the outbox page, with the link clickable.
    outbox = parse(client.get("/outbox"))
    assert "Confirm your email address" in texts(outbox, "//main//h2")
    confirm_href = outbox.xpath("//main//a[contains(@href, '/account/confirm/')]/@href")[0]
    confirmed = parse(client.get(urlsplit(confirm_href).path))
    assert "Email address confirmed" in texts(confirmed, "//main//h1")

    signed_in = sign_in_with_form(client, "ASHA@example.org", NEW_PASSWORD)
    assert signed_in.status_code == 302
    assert urlsplit(signed_in.headers["Location"]).path == "/account"
    account = parse(client.get("/account"))
    assert heading(account) == "Your account"
    details = texts(account, "//*[@id='account-details']//dd[contains(@class, 'govuk-summary-list__value')]")
    assert "Asha Patel" in details and "asha@example.org" in details
    assert "Provider user" in " ".join(details)
    session.refresh(user)
    assert user.last_signed_in_at is not None

    # Sign out with the header's form, which carries its CSRF token.
    sign_out_form = account.xpath("//form[contains(@action, '/account/sign-out')]")[0]
    signed_out = client.post(sign_out_form.get("action"), data={"csrf_token": csrf_token(sign_out_form)})
    assert urlsplit(signed_out.headers["Location"]).path == "/account/signed-out"
    assert heading(parse(client.get("/account/signed-out"))) == "You have signed out"
    after = client.get("/account")
    assert after.status_code == 302 and urlsplit(after.headers["Location"]).path == "/account/sign-in"

    assert audit_actions(user) == [
        "account.signed_up",
        "account.email_confirmed",
        "account.signed_in",
        "account.signed_out",
    ]


def test_a_wrong_password_and_an_unknown_email_get_the_same_message(client, session):
    make_user(email="known@example.org")
    wrong = parse(sign_in_with_form(client, "known@example.org", "not the right password"))
    unknown = parse(sign_in_with_form(client, "nobody@example.org", "not the right password"))
    for page in (wrong, unknown):
        assert error_messages(page) == ["Enter a correct email address and password"]
        assert texts(page, "//title")[0].startswith("Error:")
    failures = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "account.sign_in_failed")
    ).all()
    assert sorted(event.details["reason"] for event in failures) == ["no_account", "wrong_password"]
    # The attempted password is never kept.
    assert all("not the right password" not in str(event.details) for event in failures)


def test_an_unconfirmed_user_is_asked_to_confirm_and_can_get_the_email_again(client, session):
    make_user(email="new@example.org", confirmed=False)
    page = parse(sign_in_with_form(client, "new@example.org"))
    assert "You need to confirm your email address before you can sign in" in " ".join(
        texts(page, "//div[contains(@class, 'govuk-notification-banner')]")
    )
    resend_href = page.xpath("//a[normalize-space()='Send the confirmation email again']/@href")[0]
    assert client.get("/account").status_code == 302  # not signed in

    resend_page = parse(client.get(resend_href))
    assert resend_page.xpath("//input[@name='email']/@value") == ["new@example.org"]
    submit(client, resend_href, email="new@example.org")
    assert [m.subject for m in emails_to("new@example.org")] == ["Confirm your email address"]


def test_a_deactivated_user_cannot_sign_in(client, session):
    user = make_user(email="gone@example.org")
    user.active = False
    page = parse(sign_in_with_form(client, "gone@example.org"))
    assert error_messages(page) == [
        "Your account has been deactivated. Contact the council if you need it back"
    ]
    assert client.get("/account").status_code == 302


def test_a_deactivated_user_is_signed_out_of_an_existing_session(client, session):
    user = make_user(email="later-gone@example.org")
    sign_in_with_form(client, user.email)
    assert client.get("/account").status_code == 200
    user.active = False
    session.flush()
    assert client.get("/account").status_code == 302


def test_an_old_hash_is_upgraded_when_its_owner_signs_in(client, session):
    user = make_user(email="old-hash@example.org")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=2).hash(DEFAULT_PASSWORD)
    old_hash = user.password_hash
    session.flush()
    assert sign_in_with_form(client, user.email).status_code == 302
    session.refresh(user)
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # argon2.profiles.CHEAPEST


# Sign-up -------------------------------------------------------------------------------------------------


def test_signing_up_with_a_taken_email_does_not_reveal_the_account(client, session):
    existing = make_user(email="taken@example.org", name="Original Owner")
    answer = submit(
        client,
        "/account/sign-up",
        name="Someone Else",
        email="Taken@example.org",
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
        follow=True,
    )
    assert heading(parse(answer)) == "Check your email"
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "taken@example.org"))
        == 1
    )
    [message] = emails_to("taken@example.org")
    assert message.subject == "You already have an account"
    assert "/account/forgot-password" in message.body
    session.refresh(existing)
    assert existing.name == "Original Owner"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "Your password must be at least 12 characters"),
        ("password1234", "Your password is too easy to guess. Choose a different password"),
        ("aaaaaaaaaaaaaaaa", "Your password is too easy to guess. Choose a different password"),
        ("pat@example.org", "Your password must not be your email address"),
    ],
)
def test_sign_up_refuses_passwords_that_are_easy_to_guess(client, session, password, message):
    page = parse(
        submit(
            client,
            "/account/sign-up",
            name="Pat",
            email="pat@example.org",
            password=password,
            confirm_password=password,
        )
    )
    assert error_messages(page) == [message]
    assert page.xpath("//a[@href='#password']")  # the summary links to the field
    assert session.scalar(sa.select(User).where(User.email == "pat@example.org")) is None


def test_sign_up_explains_each_missing_answer(client, session):
    page = parse(
        submit(client, "/account/sign-up", name="", email="not-an-email", password="", confirm_password="")
    )
    assert error_messages(page) == [
        "Enter your full name",
        "Enter an email address in the correct format, like name@example.com",
        "Enter a password",
        "Confirm your password",
    ]


def test_sign_up_refuses_passwords_that_do_not_match(client, session):
    page = parse(
        submit(
            client,
            "/account/sign-up",
            name="Pat",
            email="pat2@example.org",
            password=NEW_PASSWORD,
            confirm_password=NEW_PASSWORD + "x",
        )
    )
    assert error_messages(page) == ["The passwords do not match. Enter the same password twice"]


def test_an_expired_confirmation_link_offers_to_send_it_again(client, session, app, monkeypatch):
    submit(
        client,
        "/account/sign-up",
        name="Slow Reader",
        email="slow@example.org",
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    link = link_in(emails_to("slow@example.org")[0].body, "/account/confirm/")
    monkeypatch.setitem(app.config, "EMAIL_TOKEN_MAX_AGE", -1)  # every link is now older than allowed
    answer = client.get(link)
    page = parse(answer)
    assert answer.status_code == 400
    assert heading(page) == "This link has expired"
    assert page.xpath("//main//a[normalize-space()='Send the confirmation email again']/@href") == [
        "/account/resend-confirmation"
    ]
    assert session.scalar(sa.select(User.email_confirmed_at).where(User.email == "slow@example.org")) is None


def test_a_tampered_confirmation_link_does_not_work(client, session):
    submit(
        client,
        "/account/sign-up",
        name="Tess",
        email="tess@example.org",
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )
    link = link_in(emails_to("tess@example.org")[0].body, "/account/confirm/")
    answer = client.get(link[:-3] + "abc")
    assert answer.status_code == 400
    assert heading(parse(answer)) == "This link does not work"


# Redirects after signing in ----------------------------------------------------------------------------


def test_signing_in_returns_to_the_page_that_asked_for_it(client, session):
    user = make_user()
    asked = client.get("/account/change-password")
    sign_in_page = asked.headers["Location"]
    assert urlsplit(sign_in_page).path == "/account/sign-in"
    answer = submit(client, sign_in_page, email=user.email, password=DEFAULT_PASSWORD)
    assert answer.headers["Location"] == "/account/change-password"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/account",
        "/\\evil.example",
        "http://evil.example/account",
        "javascript:alert(1)",
        "account",
        "https:/evil.example",
    ],
)
def test_signing_in_never_sends_people_to_another_site(client, session, next_url):
    user = make_user()
    answer = client.get("/account/sign-in", query_string={"next": next_url})
    page = parse(answer)
    action = page.xpath("//main//form[@method='post']/@action")[0]
    assert "evil" not in action
    signed_in = client.post(action, data=form_data(page, email=user.email, password=DEFAULT_PASSWORD))
    assert signed_in.headers["Location"] == "/account"


# Rate limits and CSRF --------------------------------------------------------------------------------------


def test_sign_in_answers_too_many_requests_after_the_limit(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_RATE_LIMIT", "3 per minute")
    for number in range(3):
        assert sign_in_with_form(client, f"guess{number}@example.org", "wrong password").status_code == 200
    refused = sign_in_with_form(client, "guess9@example.org", "wrong password")
    assert refused.status_code == 429
    assert heading(parse(refused)) == "Too many attempts"
    # Reading the page is never limited: only attempts are.
    assert client.get("/account/sign-in").status_code == 200


def test_sign_in_limits_guesses_at_one_email_from_many_addresses(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_RATE_LIMIT", "3 per minute")
    user = make_user(email="target@example.org")
    for number in range(3):
        answer = sign_in_with_form(
            client, user.email, "wrong password", environ={"REMOTE_ADDR": f"10.0.0.{number}"}
        )
        assert answer.status_code == 200
    refused = sign_in_with_form(
        client, "TARGET@example.org", "wrong password", environ={"REMOTE_ADDR": "10.0.0.99"}
    )
    assert refused.status_code == 429
    # Another address from a fresh machine is unaffected.
    other = sign_in_with_form(
        client, "other@example.org", "wrong password", environ={"REMOTE_ADDR": "10.0.0.98"}
    )
    assert other.status_code == 200


def test_forgot_password_answers_too_many_requests_after_the_limit(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_FORM_RATE_LIMIT", "2 per minute")
    for number in range(2):
        submit(client, "/account/forgot-password", email=f"someone{number}@example.org")
    assert submit(client, "/account/forgot-password", email="someone9@example.org").status_code == 429


@pytest.mark.parametrize("path", ["/account/sign-in", "/account/sign-up", "/account/forgot-password"])
def test_a_form_sent_without_its_csrf_token_is_refused(client, session, path):
    user = make_user(email="csrf@example.org")
    answer = client.post(
        path,
        data={
            "email": user.email,
            "password": DEFAULT_PASSWORD,
            "name": "X",
            "confirm_password": DEFAULT_PASSWORD,
        },
    )
    assert answer.status_code == 400
    assert client.get("/account").status_code == 302


def test_signing_out_without_the_csrf_token_is_refused(client, session):
    user = make_user()
    sign_in_with_form(client, user.email)
    assert client.post("/account/sign-out").status_code == 400
    assert client.get("/account").status_code == 200


def test_signing_in_starts_a_new_session(client, session):
    user = make_user()
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    sign_in_with_form(client, user.email)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] == str(user.id) and after["_fresh"] is True


# Password reset -------------------------------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_and_works_only_once(client, session):
    user = make_user(email="forgetful@example.org")
    answer = submit(client, "/account/forgot-password", email="Forgetful@example.org", follow=True)
    assert heading(parse(answer)) == "Check your email"
    [message] = emails_to("forgetful@example.org")
    link = link_in(message.body, "/account/reset-password/")

    done = submit(client, link, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert urlsplit(done.headers["Location"]).path == "/account/sign-in"
    flashed = parse(client.get("/account/sign-in"))
    assert "Your password has been changed. Sign in with your new password." in " ".join(
        texts(flashed, "//div[contains(@class, 'govuk-notification-banner')]")
    )

    used = client.get(link)
    assert used.status_code == 400 and heading(parse(used)) == "This link does not work"
    assert error_messages(parse(sign_in_with_form(client, user.email, DEFAULT_PASSWORD))) == [
        "Enter a correct email address and password"
    ]
    assert sign_in_with_form(client, user.email, NEW_PASSWORD).status_code == 302
    assert "account.password_reset" in audit_actions(user)
    assert [m.subject for m in emails_to(user.email)] == [
        "Reset your password",
        "Your password has been changed",
    ]


def test_an_expired_reset_link_is_refused(client, session, app, monkeypatch):
    user = make_user(email="late@example.org")
    submit(client, "/account/forgot-password", email=user.email)
    link = link_in(emails_to(user.email)[0].body, "/account/reset-password/")
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    answer = client.get(link)
    assert answer.status_code == 400
    assert heading(parse(answer)) == "This link has expired"
    posted = client.post(link, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert posted.status_code == 400


def test_a_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(client, session):
    answer = submit(client, "/account/forgot-password", email="stranger@example.org", follow=True)
    assert heading(parse(answer)) == "Check your email"
    assert emails_to("stranger@example.org") == []


def test_a_reset_signs_out_sessions_elsewhere(app, client, session):
    user = make_user(email="shared-laptop@example.org")
    elsewhere = app.test_client()
    # Its own app context, as a request on another machine would have (Flask-WTF keeps tokens in ``g``).
    with app.app_context():
        sign_in_with_form(elsewhere, user.email)
        assert elsewhere.get("/account").status_code == 200

    submit(client, "/account/forgot-password", email=user.email)
    link = link_in(emails_to(user.email)[0].body, "/account/reset-password/")
    submit(client, link, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)

    with app.app_context():
        assert elsewhere.get("/account").status_code == 302


def test_a_new_password_from_a_reset_link_follows_the_same_rules(client, session):
    user = make_user(email="rules@example.org")
    submit(client, "/account/forgot-password", email=user.email)
    link = link_in(emails_to(user.email)[0].body, "/account/reset-password/")
    page = parse(submit(client, link, password="rules@example.org", confirm_password="rules@example.org"))
    assert error_messages(page) == ["Your password must not be your email address"]


# Your account and changing the password -------------------------------------------------------------------


def test_your_account_shows_roles_in_plain_english_and_organisations_with_roles(client, session):
    charity = make_organisation(name="Aldermoor Carers Trust")
    agency = make_organisation(name="Brightside Home Care")
    user = make_user(
        name="Morgan Jones", roles=(Role.PROVIDER, Role.COUNCIL_MODERATOR), organisations=[agency]
    )
    from portal.models import OrganisationMembership

    session.add(OrganisationMembership(user=user, organisation=charity, role=MembershipRole.EDITOR))
    session.flush()
    sign_in(client, user)
    page = parse(client.get("/account"))
    roles = texts(page, "//*[@id='account-details']//ul/li")
    assert sorted(roles) == ["Council moderator", "Provider user"]
    rows = [texts(row, "./*") for row in page.xpath("//table[@id='organisations']/tbody/tr")]
    assert rows == [["Aldermoor Carers Trust", "Editor"], ["Brightside Home Care", "Owner"]]


def test_your_account_needs_signing_in(client, session):
    answer = client.get("/account")
    assert answer.status_code == 302
    assert urlsplit(answer.headers["Location"]).path == "/account/sign-in"


def test_changing_the_password_needs_the_current_one(client, session):
    user = make_user()
    sign_in_with_form(client, user.email)
    page = parse(
        submit(
            client,
            "/account/change-password",
            current_password="a wrong guess",
            password=NEW_PASSWORD,
            confirm_password=NEW_PASSWORD,
        )
    )
    assert error_messages(page) == ["Your current password is not right. Enter it again"]

    done = submit(
        client,
        "/account/change-password",
        current_password=DEFAULT_PASSWORD,
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
        follow=True,
    )
    page = parse(done)
    assert heading(page) == "Your account"  # still signed in here
    assert "Your password has been changed." in " ".join(
        texts(page, "//div[contains(@class, 'govuk-notification-banner')]")
    )
    session.refresh(user)
    from portal import passwords

    assert passwords.verify_password(user.password_hash, NEW_PASSWORD)
    assert audit_actions(user)[-2:] == ["account.password_change_failed", "account.password_changed"]


# The outbox and a real SMTP server ----------------------------------------------------------------------


def test_the_outbox_is_not_there_when_a_mail_server_is_set(client, session, app, monkeypatch):
    assert client.get("/outbox").status_code == 200
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    assert client.get("/outbox").status_code == 404
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "OUTBOX_ENABLED", False)
    assert client.get("/outbox").status_code == 404


class _Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"portal",
        b"s3cret",
    )
    return AuthResult(success=good)


@pytest.fixture
def tls_certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1, trusted by this test only (SSL_CERT_FILE)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_server(tls_certificate, monkeypatch):
    """A real SMTP server on 127.0.0.1 that needs STARTTLS and a login, collecting what it receives."""
    cert, key = tls_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = _Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_a_reset_email_goes_to_the_smtp_server_when_one_is_set(
    client, session, app, monkeypatch, smtp_server
):
    controller, inbox = smtp_server
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": controller.port,
        "MAIL_USE_TLS": True,
        "MAIL_USERNAME": "portal",
        "MAIL_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    user = make_user(email="smtp@example.org", name="Sam Smith")

    answer = submit(client, "/account/forgot-password", email=user.email, follow=True)

    assert heading(parse(answer)) == "Check your email"
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["smtp@example.org"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Reset your password"
    assert message["To"] == "smtp@example.org"
    body = message.get_content()
    assert "Dear Sam Smith," in body
    link = link_in(body, "/account/reset-password/")
    assert heading(parse(client.get(link))) == "Choose a new password"
    assert emails_to(user.email) == []  # nothing went to the outbox


def test_a_refusing_smtp_server_is_an_error_not_a_lost_email(client, session, app, monkeypatch, smtp_server):
    controller, inbox = smtp_server
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": controller.port,
        "MAIL_USE_TLS": True,
        "MAIL_USERNAME": "portal",
        "MAIL_PASSWORD": "wrong",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    user = make_user(email="smtp-refused@example.org")
    answer = submit(client, "/account/forgot-password", email=user.email)
    assert answer.status_code == 500
    assert inbox.envelopes == []
