"""Sending email: a real SMTP server when ``MAIL_SERVER`` is set, otherwise the development outbox.

Bodies are plain text rendered from ``templates/email/<name>.txt`` in the reader's language. Without an SMTP
server (development, tests) a message is stored as an OutboxMessage, shown at /outbox and logged, so a
newcomer can follow a confirmation link. Production refuses to start without ``MAIL_SERVER``.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template
from markupsafe import Markup, escape

from portal.extensions import db
from portal.models import OutboxMessage

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 15


class MailNotConfigured(RuntimeError):
    """Neither an SMTP server nor the development outbox is configured."""


def render_email(template: str, **context) -> str:
    """The plain-text body of ``templates/email/<template>.txt``."""
    return render_template(f"email/{template}.txt", **context)


def send_email(*, to: str, subject: str, body: str) -> None:
    """Send a plain-text email.

    Raises MailNotConfigured when there is neither an SMTP server nor an outbox, and smtplib.SMTPException or
    OSError when the SMTP server refuses or cannot be reached (the request fails rather than losing the mail).
    """
    config = current_app.config
    if config.get("MAIL_SERVER"):
        _send_over_smtp(to=to, subject=str(subject), body=body)
    elif config.get("OUTBOX_ENABLED"):
        _store_in_outbox(to=to, subject=str(subject), body=body)
    else:
        raise MailNotConfigured("Set MAIL_SERVER to send email.")


def send_templated_email(*, to: str, subject: str, template: str, **context) -> None:
    """Render ``templates/email/<template>.txt`` with ``context`` and send it."""
    send_email(to=to, subject=subject, body=render_email(template, **context))


def outbox_is_available() -> bool:
    """The outbox page exists only where mail is not really sent."""
    return bool(current_app.config.get("OUTBOX_ENABLED")) and not current_app.config.get("MAIL_SERVER")


def latest_outbox_messages(limit: int = 50) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)
        )
    )


_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escaped text with every http(s) address made a link: the outbox shows bodies this way."""
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:)")
        pieces.append(str(escape(text[position : match.start()])))
        pieces.append(f'<a class="govuk-link" href="{escape(url)}">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))


def _build_message(*, to: str, subject: str, body: str) -> EmailMessage:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message.set_content(body)
    return message


def _send_over_smtp(*, to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = _build_message(to=to, subject=subject, body=body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
    log.info("email sent over SMTP to %s: %s", to, subject)


def _store_in_outbox(*, to: str, subject: str, body: str) -> None:
    db.session.add(OutboxMessage(recipient=to, subject=subject, body=body))
    log.info("email kept in the development outbox (no MAIL_SERVER) to %s: %s\n%s", to, subject, body)
