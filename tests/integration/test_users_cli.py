"""``flask users``: what an operator sees creating the first administrator, granting roles, listing users."""

from __future__ import annotations

import sqlalchemy as sa

from portal import passwords
from portal.models import AuditEvent, Role, User
from tests.support.factories import make_user

PASSWORD = "granite harbour seventeen kites"


def _user(session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == email))


def _actions(session) -> list[str]:
    return list(session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.occurred_at)))


def test_create_admin_asks_for_the_password_twice_and_makes_a_confirmed_administrator(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "Admin@Aldermoor.example.gov.uk", "--name", "Ada Admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created council administrator admin@aldermoor.example.gov.uk" in result.output
    assert PASSWORD not in result.output  # the prompt hides what is typed
    admin = _user(session, "admin@aldermoor.example.gov.uk")
    assert admin.roles == {Role.COUNCIL_ADMIN}
    assert admin.email_confirmed_at is not None
    assert admin.password_hash.startswith("$argon2id$")
    assert passwords.verify_password(admin.password_hash, PASSWORD)
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.admin_created"))
    assert event.subject_id == str(admin.id)
    assert event.details["via"] == "command line"


def test_create_admin_reads_the_password_from_stdin_for_scripts(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "ops@example.org", "--name", "Ops", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert passwords.verify_password(_user(session, "ops@example.org").password_hash, PASSWORD)


def test_create_admin_refuses_an_existing_email_and_says_what_to_do(app, session):
    make_user(email="already@example.org")
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "ALREADY@example.org", "--name", "Dup", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "flask users grant already@example.org council_admin" in result.output
    assert _user(session, "already@example.org").roles == set()


def test_create_admin_refuses_a_weak_password(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "weak@example.org", "--name", "Weak", "--password-stdin"],
        input="password1234\n",
    )
    assert result.exit_code == 1
    assert "Your password is too easy to guess" in result.output
    assert _user(session, "weak@example.org") is None


def test_create_admin_refuses_two_different_passwords(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "typo@example.org", "--name", "Typo"],
        input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n",
    )
    # click asks again after a mismatch; the second pair matches.
    assert result.exit_code == 0, result.output
    assert "The two entered values do not match" in result.output
    assert passwords.verify_password(_user(session, "typo@example.org").password_hash, PASSWORD)


def test_grant_gives_a_role_and_audits_it_once(app, session):
    user = make_user(email="mod@example.org")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "grant", "MOD@example.org", "council_moderator"])
    assert first.exit_code == 0, first.output
    assert "Granted council_moderator to mod@example.org" in first.output
    again = runner.invoke(args=["users", "grant", "mod@example.org", "council_moderator"])
    assert "nothing changed" in again.output
    session.refresh(user)
    assert user.roles == {Role.COUNCIL_MODERATOR}
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.role_granted"))
    assert event.before == {"roles": []} and event.after == {"roles": ["council_moderator"]}
    assert _actions(session).count("account.role_granted") == 1


def test_grant_explains_an_unknown_user_or_role(app, session):
    runner = app.test_cli_runner()
    unknown_user = runner.invoke(args=["users", "grant", "ghost@example.org", "provider"])
    assert unknown_user.exit_code == 1
    assert "No user has the email address ghost@example.org" in unknown_user.output
    make_user(email="real@example.org")
    unknown_role = runner.invoke(args=["users", "grant", "real@example.org", "emperor"])
    assert unknown_role.exit_code == 2
    assert "council_admin" in unknown_role.output  # the choices are listed


def test_list_shows_every_user_with_status_and_roles(app, session):
    make_user(email="b-provider@example.org", name="Bea Provider", roles=(Role.PROVIDER,))
    make_user(email="a-new@example.org", name="Al New", confirmed=False)
    result = app.test_cli_runner().invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[1:]]
    assert [row[0] for row in rows] == ["a-new@example.org", "b-provider@example.org"]
    assert rows[0][-2:] == ["unconfirmed", "-"]
    assert rows[1][-2:] == ["active", "provider"]
    assert "account.users_listed" in _actions(session)
