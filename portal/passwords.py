"""Password hashing (argon2id) and the password rules people are asked to follow.

The argon2 cost comes from the config profile name ``PASSWORD_HASH_PROFILE`` (an ``argon2.profiles`` name):
RFC_9106_LOW_MEMORY in production, CHEAPEST in tests. Stored hashes carry their own parameters, so raising
the cost later only needs ``needs_rehash`` on the next sign-in.

The rules follow the NCSC password guidance: length over complexity, no composition rules, block the
passwords attackers try first, and never the account's own email address.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

import argon2
import argon2.profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MINIMUM_LENGTH = 12
# argon2 copes with long input, but an unbounded field lets one request burn CPU and memory.
MAXIMUM_LENGTH = 256

# The passwords that top every breach list, and guessable phrases about this service. The 12-character
# minimum already rules out most of a top-100 list; these are the long ones people still choose.
# fmt: off
COMMON_PASSWORDS = frozenset(
    {
        "123456789012", "1234567890123", "12345678901234", "123456123456", "111111111111", "000000000000",
        "123123123123", "121212121212", "987654321098", "qwertyuiop12", "qwertyuiop123", "qwertyuiopas",
        "qwertyuiopasdf", "1qaz2wsx3edc", "1q2w3e4r5t6y", "q1w2e3r4t5y6", "asdfghjkl123", "zxcvbnm12345",
        "password1234", "password12345", "password123!", "passwordpassword", "password1234!",
        "p@ssw0rd1234", "p@ssword1234", "passw0rd1234", "mypassword123", "mypassword1234",
        "newpassword123", "changeme1234", "letmein12345", "letmeinletmein", "welcome12345",
        "welcome123456", "welcometo2024", "iloveyou1234", "iloveyou12345", "iloveyouiloveyou",
        "administrator", "administrator1", "admin1234567", "adminadmin123", "football1234",
        "liverpool1234", "manchesterunited", "chelseafc1234", "arsenal12345", "sunshine1234",
        "princess1234", "monkey123456", "dragon123456", "superman1234", "batman123456", "trustno11234",
        "baseball1234", "starwars1234", "whatever1234", "computer1234", "internet1234", "qwerty123456",
        "qwertyqwerty", "abcdefghijkl", "abcdef123456", "abc123abc123", "aaaaaaaaaaaa",
        "correcthorsebatterystaple", "correct horse battery staple", "careportal123", "careportal1234",
        "carepassword", "socialcare123", "socialcare1234", "council12345", "council123456",
        "councilpassword", "aldermoor1234", "aldermoor12345", "directpayment", "directpayments",
        "spring2024!!", "summer2024!!", "autumn2024!!", "winter2024!!", "january12345", "september2024",
        "september2025", "password2024", "password2025", "password2026",
    }
)
# fmt: on


class PasswordRuleError(ValueError):
    """A password breaks a rule; ``message`` is the GOV.UK-style sentence to show next to the field."""

    def __init__(self, message) -> None:
        # Kept lazy: it is read in the reader's language, and outside a request (the CLI) in English.
        super().__init__(message)
        self.message = message


@cache
def _hasher_for(profile_name: str) -> argon2.PasswordHasher:
    try:
        parameters = getattr(argon2.profiles, profile_name)
    except AttributeError:
        raise RuntimeError(f"PASSWORD_HASH_PROFILE {profile_name!r} is not an argon2.profiles name") from None
    return argon2.PasswordHasher.from_parameters(parameters)


def hasher() -> argon2.PasswordHasher:
    return _hasher_for(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed stored hash counts as a mismatch, never an error page."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than today's profile."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(profile_name: str) -> str:
    return _hasher_for(profile_name).hash("not a real password: equalises sign-in timing")


def spend_verification_time(password: str) -> None:
    """Do one verification's work when there is no account, so timing does not reveal which emails exist."""
    verify_password(_dummy_hash(current_app.config["PASSWORD_HASH_PROFILE"]), password)


def fingerprint(password_hash: str) -> str:
    """A keyed digest of the stored hash: it changes whenever the password does, and reveals nothing about it.

    Reset tokens and signed-in sessions carry it, so both stop working once the password changes."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def check_password_rules(password: str, *, email: str | None = None) -> None:
    """Raise PasswordRuleError when ``password`` is too short, too long, too common or the email address."""
    if len(password) < MINIMUM_LENGTH:
        raise PasswordRuleError(
            _l("Your password must be at least %(count)d characters", count=MINIMUM_LENGTH)
        )
    if len(password) > MAXIMUM_LENGTH:
        raise PasswordRuleError(
            _l("Your password must be %(count)d characters or fewer", count=MAXIMUM_LENGTH)
        )
    folded = password.strip().casefold()
    if folded in COMMON_PASSWORDS or _uses_at_most_two_characters(folded):
        raise PasswordRuleError(_l("Your password is too easy to guess. Choose a different password"))
    if email:
        address = email.strip().casefold()
        local_part = address.partition("@")[0]
        if folded in {address, local_part} or address in folded:
            raise PasswordRuleError(_l("Your password must not be your email address"))


def _uses_at_most_two_characters(password: str) -> bool:
    return len(set(password)) <= 2
