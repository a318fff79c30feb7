"""E-mail: rendering a message of the outbox (Vietnamese by default, plain text and HTML) and
handing it to an SMTP server, or printing it for the demo (MAIL_BACKEND=console)."""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import sys
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import Flask, render_template, url_for
from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from kiosk.settings import MailSettings, settings

#: Lines up to SMTP's own limit: Python's folding of a long non-ASCII subject into several
#: encoded words can drop a space after a comma ("hà, nhũng" arriving as "hà,nhũng").
SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)
#: template name → function returning (subject, context) for the message, from its payload.
Composer = Callable[[Session, dict[str, Any]], tuple[str, dict[str, Any]]]
COMPOSERS: dict[str, Composer] = {}


class MailFailed(Exception):
    """The SMTP server refused the message or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status
        self.permanent = False


def composer(name: str) -> Callable[[Composer], Composer]:
    """Register how the e-mails of template ``name`` are composed."""

    def register(function: Composer) -> Composer:
        COMPOSERS[name] = function
        return function

    return register


@composer("alert")
def _alert_message(session: Session, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from kiosk.alert_text import describe, rule_name
    from surveys.models import Alert

    alert = session.get(Alert, payload["alert_id"])
    office = alert.office
    context = {
        "alert": alert,
        "office": office,
        "rule": rule_name(alert.rule),
        "description": describe(alert),
        "counter": next((c for c in office.counters if c.id == alert.counter_id), None),
        "officer": next((o for o in office.officers if o.id == alert.officer_id), None),
        "link": url_for("alerts.index", office=office.code, _external=True),
    }
    subject = gettext("Alert: %(rule)s at %(office)s", rule=context["rule"], office=office.name)
    return subject, context


@composer("sign_in_throttled")
def _throttled_message(_session: Session, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    minutes = max(1, round(payload["wait_seconds"] / 60))
    context = {
        "failures": payload["failures"],
        "minutes": minutes,
        "link": url_for("account.index", _external=True),
    }
    return gettext("Hài Lòng: several wrong passwords were tried for this account"), context


@composer("pin_locked")
def _pin_locked_message(session: Session, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from surveys.models import Officer

    officer = session.get(Officer, payload["officer_id"])
    context = {
        "officer": officer,
        "office": officer.office,
        "until": datetime.fromisoformat(payload["until"]),
        "link": url_for("admin_kiosks.officers_index", _external=True),
    }
    subject = gettext(
        "PIN sign-in locked for %(officer)s at %(office)s",
        officer=officer.name,
        office=officer.office.name,
    )
    return subject, context


@composer("digest")
def _digest_message(session: Session, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from kiosk.views.digest import unsubscribe_url
    from surveys.digest import digest_for
    from surveys.models import User

    user = session.get(User, payload["user_id"])
    until = datetime.fromisoformat(payload["until"])
    digest = digest_for(session, user, until=until, min_n=settings().min_responses)
    context = {
        "digest": digest,
        "week": payload["week"],
        "dashboard": url_for("dashboard.index", _external=True),
        "alerts_link": url_for("alerts.index", _external=True),
        "unsubscribe": unsubscribe_url(user.id),
    }
    return gettext("Hài Lòng: your offices this week (%(week)s)", week=payload["week"]), context


@composer("test")
def _test_message(_session: Session, _payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return gettext("Hài Lòng: test e-mail"), {}


def render_email(app: Flask, session: Session, payload: dict[str, Any]) -> EmailMessage:
    """Build the message of an outbox payload {"to", "template", "locale", ...}."""
    config = settings()
    locale = payload.get("locale") or config.default_language
    # A request context on the public address, so url_for(..., _external=True) makes the
    # links the recipient clicks.
    with app.test_request_context(base_url=config.public_base_url), force_locale(locale):
        subject, context = COMPOSERS[payload["template"]](session, payload)
        text = render_template(f"mail/{payload['template']}.txt", **context)
        html = render_template(f"mail/{payload['template']}.html", subject=subject, **context)
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject
    message["From"] = config.mail.sender
    message["To"] = payload["to"]
    message["Message-ID"] = make_msgid(domain="hailong")
    if "unsubscribe" in context:
        message["List-Unsubscribe"] = f"<{context['unsubscribe']}>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_email(message: EmailMessage, mail: MailSettings, *, timeout: float) -> None:
    """Hand the message to the SMTP server (or print it); raise MailFailed if refused."""
    if mail.backend == "console":
        text = message.get_body(("plain",))
        sys.stdout.write(
            f"\n--- e-mail to {message['To']}: {message['Subject']}\n"
            f"{text.get_content() if text else ''}--- end of e-mail\n"
        )
        sys.stdout.flush()
        return
    try:
        with smtplib.SMTP(mail.server, mail.port, timeout=timeout) as smtp:
            if mail.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if mail.username:
                smtp.login(mail.username, mail.password or "")
            smtp.send_message(message)
    except smtplib.SMTPResponseException as error:
        raise MailFailed(f"SMTP {error.smtp_code}: {error.smtp_error!r}", error.smtp_code) from None
    except smtplib.SMTPRecipientsRefused as error:
        raise MailFailed(f"recipients refused: {error.recipients!r}") from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailFailed(f"{type(error).__name__}: {error}") from None
