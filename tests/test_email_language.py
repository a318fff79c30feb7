"""Each user receives e-mail in their own language: chosen on their account page, or set by an
administrator; alerts, the weekly digest, security notices and the test mail follow it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk.worker import Checks, Worker
from surveys.models import OutboxMessage, User
from surveys.responses import ResponseInput, submit_response
from tests.admin_support import audit_entries, page_text, post, sign_in
from tests.conftest import PASSWORD

HARASSED = {"overall": "very_dissatisfied", "reasons": ["harassment"]}
#: Monday 30 November 2026, 07:00 in Hanoi.
MONDAY_7AM = datetime(2026, 11, 30, 0, 0)


def language_of(db, email):
    db.expire_all()
    return db.scalar(select(User.language).where(User.email == email))


def mail_to(smtp, email):
    return next(message for recipients, message in smtp.messages if recipients == [email])


# Choosing it ---------------------------------------------------------------------------------


def test_a_user_chooses_the_language_of_their_emails(client, db, city):
    user = sign_in(client, db, "office_manager")
    page = page_text(client.get("/account"))
    assert 'name="language"' in page and "English" in page and "Tiếng Việt" in page
    assert language_of(db, user.email) == "vi"
    answer = post(client, "/account/language", {"language": "en"})
    assert answer.status_code == 302
    assert language_of(db, user.email) == "en"
    [entry] = audit_entries(db, "user.language_changed")
    assert (entry.before, entry.after) == ({"language": "vi"}, {"language": "en"})
    # Saving the same choice again records nothing.
    post(client, "/account/language", {"language": "en"})
    assert len(audit_entries(db, "user.language_changed")) == 1


@pytest.mark.parametrize("language", ["fr", "", "EN"])
def test_an_unknown_language_is_a_form_error(client, db, city, language):
    user = sign_in(client, db, "office_manager")
    answer = post(client, "/account/language", {"language": language})
    assert answer.status_code == 400
    assert 'class="error' in page_text(answer)
    assert language_of(db, user.email) == "vi"


def test_the_language_form_needs_its_csrf_token_and_a_sign_in(client, db, city):
    assert post(client, "/account/language", {"language": "en"}).status_code == 302  # sign in
    user = sign_in(client, db, "office_manager")
    assert client.post("/account/language", data={"language": "en"}).status_code == 400
    assert language_of(db, user.email) == "vi"


def test_an_administrator_sets_it_when_inviting_and_editing(client, db, city):
    sign_in(client, db, "admin")
    page = page_text(client.get("/admin/users"))
    assert 'name="language"' in page
    answer = post(
        client,
        "/admin/users",
        {"email": "lan@example.vn", "role": "manager", "scope": "O1", "language": "en"},
    )
    assert answer.status_code == 200
    assert language_of(db, "lan@example.vn") == "en"
    [created] = audit_entries(db, "user.create")
    assert created.after["language"] == "en"
    found = db.scalar(select(User).where(User.email == "lan@example.vn"))
    assert '<option selected value="en">' in page_text(client.get(f"/admin/users/{found.id}"))
    answer = post(
        client,
        f"/admin/users/{found.id}",
        {"email": found.email, "role": "manager", "scope": "O1", "language": "vi"},
    )
    assert answer.status_code == 302
    assert language_of(db, "lan@example.vn") == "vi"
    [changed] = audit_entries(db, "user.update")
    assert (changed.before, changed.after) == ({"language": "en"}, {"language": "vi"})
    bad = post(
        client,
        f"/admin/users/{found.id}",
        {"email": found.email, "role": "manager", "scope": "O1", "language": "de"},
    )
    assert bad.status_code == 400 and language_of(db, "lan@example.vn") == "vi"


def test_create_user_on_the_command_line_takes_a_language(runner, db, city):
    result = runner.invoke(
        args=["create-user", "it@example.vn", "--role", "admin", "--language", "en"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert language_of(db, "it@example.vn") == "en"


# Receiving it --------------------------------------------------------------------------------


def test_each_manager_gets_the_alert_in_their_language(mail_app, smtp, db, city, make_user):
    make_user("donvi@example.vn", "manager", "D1")
    english = make_user("quanly@example.vn", "manager", "O1")
    english.language = "en"
    db.commit()
    client = mail_app.test_client()
    answer = client.post(
        "/api/v1/responses",
        json={"id": str(uuid.uuid4()), "target": "OFFICR1", "answers": HARASSED},
    )
    assert answer.status_code == 201
    assert Worker(mail_app).send_due() == 2
    english_mail = mail_to(smtp, "quanly@example.vn")
    assert english_mail["Subject"] == (
        "Alert: Harassment or improper demands reported at Bộ phận một cửa Quận Một"
    )
    plain = english_mail.get_body(("plain",)).get_content()
    assert "A citizen reported harassment or improper demands." in plain
    assert '<html lang="en">' in english_mail.get_body(("html",)).get_content()
    vietnamese_mail = mail_to(smtp, "donvi@example.vn")
    assert vietnamese_mail["Subject"] == (
        "Cảnh báo: Phản ánh gây phiền hà, nhũng nhiễu tại Bộ phận một cửa Quận Một"
    )
    assert '<html lang="vi">' in vietnamese_mail.get_body(("html",)).get_content()


def _ratings(db, start, count, positive):
    for i in range(count):
        answers = {"overall": "satisfied"} if i < positive else {"overall": "not_satisfied"}
        submit_response(
            db,
            ResponseInput(id=uuid.uuid4(), target_code="COUNTR1", answers=answers),
            now=start + i * timedelta(hours=3),
        )
    db.commit()


def test_each_manager_gets_the_digest_in_their_language(mail_app, smtp, db, city, make_user):
    make_user("donvi@example.vn", "manager", "D1")
    english = make_user("quanly@example.vn", "manager", "O1")
    english.language = "en"
    db.commit()
    _ratings(db, MONDAY_7AM - timedelta(days=13), 40, 36)
    _ratings(db, MONDAY_7AM - timedelta(days=6), 40, 20)
    assert Checks(mail_app, clock=lambda: MONDAY_7AM).weekly_digest() == 2
    assert Worker(mail_app, clock=lambda: MONDAY_7AM).send_due() == 2
    english_mail = mail_to(smtp, "quanly@example.vn")
    assert english_mail["Subject"] == "Hài Lòng: your offices this week (2026-W49)"
    assert '<html lang="en">' in english_mail.get_body(("html",)).get_content()
    vietnamese_mail = mail_to(smtp, "donvi@example.vn")
    assert vietnamese_mail["Subject"] == (
        "Hài Lòng: tình hình các điểm phục vụ trong tuần (2026-W49)"
    )


def test_security_notices_and_the_test_mail_follow_the_owners_language(
    mail_app, smtp, db, city, make_user, device_token
):
    from tests.conftest import give_pin
    from tests.test_mail import _wrong_password

    owner = make_user("quanly@example.vn", "manager", "O1")
    owner.language = "en"
    give_pin(db, "CB1", "482915")
    db.commit()
    client = mail_app.test_client()
    for _ in range(5):
        _wrong_password(client, "quanly@example.vn")
        client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "CB1", "pin": "000000"},
            headers={"Authorization": f"Bearer {device_token}"},
        )
    result = mail_app.test_cli_runner().invoke(args=["send-test-mail", "quanly@example.vn"])
    assert result.exit_code == 0, result.output
    assert Worker(mail_app).send_due() == 3
    db.expire_all()
    locales = {
        m.payload["template"]: m.payload["locale"] for m in db.scalars(select(OutboxMessage))
    }
    assert locales == {"sign_in_throttled": "en", "pin_locked": "en", "test": "en"}
    subjects = sorted(message["Subject"] for _, message in smtp.messages)
    assert subjects == [
        "Hài Lòng: several wrong passwords were tried for this account",
        "Hài Lòng: test e-mail",
        "PIN sign-in locked for Nguyễn Thị Lan at Bộ phận một cửa Quận Một",
    ]


# This browser follows it too -----------------------------------------------------------------


def test_saving_the_language_sets_it_for_this_browser(app, db, city):
    client = app.test_client()
    sign_in(client, db, "office_manager")
    vietnamese = {"Accept-Language": "vi"}
    assert 'lang="vi"' in page_text(client.get("/dashboard", headers=vietnamese))
    answer = post(client, "/account/language", {"language": "en"})
    assert answer.status_code == 302
    # The choice is this browser's too (a cookie), and the message says so in English.
    after = page_text(client.get("/account", headers=vietnamese))
    assert 'lang="en"' in after and "Your language is saved" in after
    assert 'lang="en"' in page_text(client.get("/dashboard", headers=vietnamese))
    # Another browser still follows its own Accept-Language, and the links switch one browser.
    other = app.test_client()
    assert 'lang="vi"' in page_text(other.get("/login", headers=vietnamese))
    assert 'lang="vi"' in page_text(client.get("/dashboard?lang=vi"))
