"""Password hashing and the password rules: pure logic, no database."""

from __future__ import annotations

import pytest

from portal import create_app, passwords


@pytest.fixture(scope="module")
def app():
    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")


@pytest.fixture(autouse=True)
def request_context(app):
    # The rule messages are translated, so they are read in a request (in English by default).
    with app.test_request_context():
        yield


def test_passwords_are_stored_as_argon2id_hashes_never_as_given():
    stored = passwords.hash_password("plum orchard velvet lantern")
    assert stored.startswith("$argon2id$")
    assert "plum" not in stored


def test_the_right_password_matches_and_a_wrong_one_does_not():
    stored = passwords.hash_password("plum orchard velvet lantern")
    assert passwords.verify_password(stored, "plum orchard velvet lantern")
    assert not passwords.verify_password(stored, "plum orchard velvet lanterns")


def test_a_damaged_stored_hash_is_a_mismatch_not_an_error():
    assert not passwords.verify_password("not-a-hash", "anything at all")
    assert passwords.needs_rehash("not-a-hash")


def test_tests_hash_with_the_cheapest_profile_and_production_asks_for_a_rehash(app, monkeypatch):
    stored = passwords.hash_password("plum orchard velvet lantern")
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert not passwords.needs_rehash(stored)
    monkeypatch.setitem(app.config, "PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")
    assert passwords.needs_rehash(stored)


def test_an_unknown_hash_profile_is_a_clear_configuration_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_HASH_PROFILE", "FASTEST_PLEASE")
    with pytest.raises(RuntimeError, match="PASSWORD_HASH_PROFILE"):
        passwords.hash_password("plum orchard velvet lantern")


@pytest.mark.parametrize(
    "password",
    ["plum orchard velvet lantern", "three random words", "Tr0ub4dor&3xyz", "a" * 8 + "b" * 3 + "c"],
)
def test_long_uncommon_passwords_are_accepted(password):
    passwords.check_password_rules(password, email="sam@example.org")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Your password must be at least 12 characters"),
        ("elevenchars", "Your password must be at least 12 characters"),
        ("x" * 257, "Your password must be 256 characters or fewer"),
        ("password1234", "Your password is too easy to guess. Choose a different password"),
        ("  Password1234 ", "Your password is too easy to guess. Choose a different password"),
        ("QWERTY123456", "Your password is too easy to guess. Choose a different password"),
        ("abababababab", "Your password is too easy to guess. Choose a different password"),
        ("Sam.Jones@Example.org", "Your password must not be your email address"),
        ("my sam.jones@example.org!", "Your password must not be your email address"),
    ],
)
def test_short_common_and_email_passwords_are_refused(password, message):
    with pytest.raises(passwords.PasswordRuleError) as refused:
        passwords.check_password_rules(password, email="sam.jones@example.org")
    assert str(refused.value.message) == message


def test_the_email_local_part_alone_is_refused_as_a_password():
    with pytest.raises(passwords.PasswordRuleError):
        passwords.check_password_rules("margaret.thompson", email="Margaret.Thompson@example.org")


def test_the_fingerprint_changes_with_the_password_and_does_not_reveal_the_hash():
    first = passwords.hash_password("plum orchard velvet lantern")
    second = passwords.hash_password("plum orchard velvet lantern")
    assert passwords.fingerprint(first) == passwords.fingerprint(first)
    assert passwords.fingerprint(first) != passwords.fingerprint(second)
    assert passwords.fingerprint(first) not in first
