"""E-mail through a real SMTP server (aiosmtpd, started here), sent by the real worker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from kiosk.worker import Worker
from surveys import outbox
from surveys.db import utcnow
from surveys.models import OutboxMessage
from tests.receivers import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[1]


def test_a_test_mail_reaches_the_smtp_server_in_vietnamese(mail_app, smtp):
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["send-test-mail", "quanly@example.vn"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["worker", "--once"])
    assert "Sent 1 message(s)." in result.output, result.output
    [(recipients, message)] = smtp.messages
    assert recipients == ["quanly@example.vn"]
    assert message["Subject"] == "Hài Lòng: thư thử nghiệm"
    assert message["From"] == "Hài Lòng <no-reply@localhost>"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "thư thử nghiệm" in plain
    assert '<html lang="vi">' in html and "thư thử nghiệm" in html


def test_english_when_the_message_asks_for_it(mail_app, smtp, db):
    outbox.enqueue(
        db, "email", {"to": "it@example.vn", "template": "test", "locale": "en"}, now=utcnow()
    )
    db.commit()
    assert Worker(mail_app).send_due() == 1
    [(_, message)] = smtp.messages
    assert message["Subject"] == "Hài Lòng: test e-mail"


def test_a_refused_message_is_retried_later(mail_app, smtp, db):
    smtp.refuse = 1
    now = utcnow().replace(microsecond=0)
    message = outbox.enqueue(db, "email", {"to": "a@example.vn", "template": "test"}, now=now)
    db.commit()
    clock = lambda: now  # noqa: E731
    worker = Worker(mail_app, clock=clock)
    assert worker.send_due() == 0
    db.expire_all()
    stored = db.get(OutboxMessage, message.id)
    assert (stored.status, stored.last_status) == ("pending", 451)
    assert stored.due_at == now + timedelta(seconds=30)
    assert Worker(mail_app, clock=lambda: now + timedelta(seconds=30)).send_due() == 1
    assert len(smtp.messages) == 1


def _worker_process(database_url: str, smtp_port: int, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(smtp_port),
        "FLASK_OUTBOX_POLL_SECONDS": "0.2",
        "FLASK_DELIVERY_TIMEOUT_SECONDS": "60",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(condition, timeout: float = 20) -> None:
    """Wait on another process (which has its own clock), polling, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the worker process did not get there in time"
        time.sleep(0.05)


def test_the_worker_process_runs_until_stopped(database_url, smtp, db):
    process = _worker_process(database_url, smtp.port)
    try:
        outbox.enqueue(db, "email", {"to": "a@example.vn", "template": "test"}, now=utcnow())
        db.commit()
        _wait_for(lambda: len(smtp.messages) == 1)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert "stopped" in output


class _Stall:
    """An SMTP handler that never answers the data of the first message."""

    def __init__(self, server: SmtpServer):
        self.server = server
        self.stalled = asyncio.Event()

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
        if not self.stalled.is_set():
            self.stalled.set()
            self.server.stalls += 1
            await asyncio.sleep(3600)
        self.server.messages.append((list(envelope.rcpt_tos), envelope))
        return "250 OK"


def test_a_killed_workers_message_is_sent_by_the_next(database_url, mail_app, smtp, db):
    from aiosmtpd.controller import Controller

    smtp.stalls = 0
    stalling_port = free_port()
    stalling = Controller(_Stall(smtp), hostname="127.0.0.1", port=stalling_port)
    stalling.start()
    try:
        message = outbox.enqueue(
            db, "email", {"to": "a@example.vn", "template": "test"}, now=utcnow()
        )
        db.commit()
        process = _worker_process(database_url, stalling_port, "--name", "doomed")
        try:
            _wait_for(lambda: smtp.stalls == 1)  # claimed, and stuck mid-send
        finally:
            process.kill()  # SIGKILL: no chance to record anything
            process.communicate(timeout=20)
    finally:
        stalling.stop()
    db.expire_all()
    stored = db.get(OutboxMessage, message.id)
    assert (stored.status, stored.claimed_by) == ("pending", "doomed")
    lease_over = stored.claimed_until + timedelta(seconds=1)
    assert Worker(mail_app, name="next", clock=lambda: stored.claimed_until).send_due() == 0
    assert Worker(mail_app, name="next", clock=lambda: lease_over).send_due() == 1
    assert len(smtp.messages) == 1
    db.expire_all()
    assert db.scalars(select(OutboxMessage.status)).all() == ["sent"]


def _wrong_password(client, email):
    from tests.conftest import csrf_token

    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": "wrong password!"},
    )


def test_the_owner_of_a_throttled_account_is_told_by_email(mail_app, smtp, city, make_user):
    """Issue 11: the fifth wrong password starts a wait, and the worker mails the owner once;
    a login that names no account mails nobody (and looks the same from outside)."""
    make_user("quanly@example.vn")
    client = mail_app.test_client()
    for _ in range(5):
        assert _wrong_password(client, "quanly@example.vn").status_code == 200
        assert _wrong_password(client, "nobody@example.vn").status_code == 200
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["worker", "--once"])
    assert "Sent 1 message(s)." in result.output, result.output
    [(recipients, message)] = smtp.messages
    assert recipients == ["quanly@example.vn"]
    assert message["Subject"] == (
        "Hài Lòng: có người đã nhập sai mật khẩu nhiều lần cho tài khoản này"
    )
    plain = message.get_body(("plain",)).get_content()
    assert "5 lần" in plain and "/account" in plain


def test_the_office_managers_are_told_when_a_pin_locks(
    mail_app, smtp, db, city, make_user, device_token
):
    """Issue 11: five wrong PINs from any kiosk lock the officer's PIN and mail the managers
    whose scope holds the office, and nobody else."""
    from tests.conftest import give_pin

    make_user("quanly@example.vn", scope="O1")
    make_user("khac@example.vn", scope="O2")
    give_pin(db, "CB1", "482915")
    db.commit()
    client = mail_app.test_client()
    for _ in range(5):
        answer = client.post(
            "/api/v1/kiosk/officer/sign-in",
            json={"officer": "CB1", "pin": "000000"},
            headers={"Authorization": f"Bearer {device_token}"},
        )
        assert answer.status_code == 401
    assert Worker(mail_app).send_due() == 1
    [(recipients, message)] = smtp.messages
    assert recipients == ["quanly@example.vn"]
    assert "Khóa đăng nhập bằng mã PIN" in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    assert "CB1" in plain and "/admin/kiosks/officers" in plain
