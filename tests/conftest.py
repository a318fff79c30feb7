"""Fixtures: a migrated database (SQLite, or PostgreSQL from TEST_DATABASE_URL), an app from
the factory, and factories for the organisation. Every table is emptied after each test."""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from kiosk import create_app
from surveys import accounts, kiosks
from surveys.db import Base, make_engine, make_sessionmaker, utcnow
from surveys.defaults import OFFICE_CULTURE, QUICK, ensure_default_surveys
from surveys.models import Counter, Office, Officer, Target, Unit
from surveys.schema import upgrade
from surveys.targets import TARGETS
from tests.receivers import SmtpServer

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """Migrate a fresh database: SQLite in a temp dir, or a private PostgreSQL schema.

    Each PostgreSQL run gets its own schema (search_path in the URL), so runs on one server,
    such as CI and a developer's, never drop each other's tables.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade(url)
        yield url
        return
    schema = f"hl_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    scoped = f"{url}{separator}options=-csearch_path%3D{schema}"
    try:
        upgrade(scoped)
        yield scoped
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _empty_tables(request, engine):
    yield
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    # The next test makes codes of the same names with other ids.
    TARGETS.clear()


@pytest.fixture(scope="session", autouse=True)
def _hash_each_password_once():
    """Hash each test password once per run, not once per fixture user.

    scrypt is slow on purpose; a test that signs in still pays one check, as in production.
    """
    real = accounts.hash_password
    cached = functools.lru_cache(maxsize=32)(real)
    accounts.hash_password = cached
    yield
    accounts.hash_password = real


@pytest.fixture()
def db(engine):
    """A domain session for arranging and inspecting data; commit to make it visible."""
    with make_sessionmaker(engine)() as session:
        yield session


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "http://kiosk.test",
        # The second factor is required of nobody here: tests/test_security.py tests the
        # requirement with apps of its own.
        "MFA_REQUIRED_ROLES": (),
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    yield app
    app.extensions["hailong.engine"].dispose()


@pytest.fixture()
def smtp():
    """A real SMTP server (aiosmtpd) on a free port, holding what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture()
def mail_app(database_url, smtp):
    """An app whose e-mail goes to the ``smtp`` server."""
    app = make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    yield app
    app.extensions["hailong.engine"].dispose()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@dataclass
class City:
    unit: Unit
    other_unit: Unit
    office: Office
    other_office: Office
    counter: Counter
    other_counter: Counter
    officer: Officer
    office_code: str
    counter_code: str
    officer_code: str
    other_counter_code: str
    other_office_code: str


@pytest.fixture()
def city(db) -> City:
    """Two units with an office each; the first has a counter with an officer."""
    surveys = ensure_default_surveys(db)
    root = Unit(code="ROOT", name="Thành phố")
    db.add(root)
    db.flush()
    root.place_under(None)
    units = []
    for code, name in (("D1", "Quận Một"), ("D2", "Quận Hai")):
        unit = Unit(code=code, name=name)
        db.add(unit)
        db.flush()
        unit.place_under(root)
        units.append(unit)
    office = Office(code="O1", name="Bộ phận một cửa Quận Một", unit=units[0])
    other_office = Office(code="O2", name="Bộ phận một cửa Quận Hai", unit=units[1])
    counter = Counter(code="O1-Q1", name="Quầy 1", office=office)
    other_counter = Counter(code="O2-Q1", name="Quầy 1", office=other_office)
    officer = Officer(code="CB1", name="Nguyễn Thị Lan", office=office)
    db.add_all([office, other_office, counter, other_counter, officer])
    db.flush()
    db.add_all(
        [
            Target(code="OFFICE1", kind="office", office_id=office.id, survey=surveys[QUICK]),
            Target(
                code="COUNTR1",
                kind="counter",
                office_id=office.id,
                counter_id=counter.id,
                survey=surveys[QUICK],
            ),
            Target(
                code="OFFICR1",
                kind="officer",
                office_id=office.id,
                counter_id=counter.id,
                officer_id=officer.id,
                survey=surveys[OFFICE_CULTURE],
            ),
            Target(code="OFFICE2", kind="office", office_id=other_office.id, survey=surveys[QUICK]),
            Target(
                code="COUNTR2",
                kind="counter",
                office_id=other_office.id,
                counter_id=other_counter.id,
                survey=surveys[QUICK],
            ),
        ]
    )
    db.commit()
    return City(
        units[0],
        units[1],
        office,
        other_office,
        counter,
        other_counter,
        officer,
        "OFFICE1",
        "COUNTR1",
        "OFFICR1",
        "COUNTR2",
        "OFFICE2",
    )


@pytest.fixture()
def make_user(db):
    def make(email="manager@example.vn", role="manager", scope="O1"):
        user = accounts.create_user(db, email, PASSWORD, role, scope_code=scope)
        db.commit()
        return user

    return make


@pytest.fixture()
def make_token(db, make_user):
    def make(email="manager@example.vn", role="manager", scope="O1", token_scope="admin"):
        make_user(email, role, scope)
        token = accounts.create_api_token(db, email, now=utcnow(), scope=token_scope)
        db.commit()
        return token

    return make


@pytest.fixture()
def device_token(db, city) -> str:
    token = kiosks.enroll_device_token(db, city.counter.code, now=utcnow())
    db.commit()
    return token


def pairing_secret(db, counter_code: str = "O1-Q1", *, now: datetime | None = None) -> str:
    """Issue a one-time pairing as an administrator would; return the link's secret."""
    issued = kiosks.issue_pairing(
        db,
        counter_code,
        now=now or utcnow(),
        link_ttl=timedelta(hours=24),
        code_ttl=timedelta(minutes=15),
    )
    return issued.secret


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture()
def login(client):
    def do(email="manager@example.vn", password=PASSWORD):
        page = client.get("/login").get_data(as_text=True)
        return client.post(
            "/login", data={"csrf_token": csrf_token(page), "email": email, "password": password}
        )

    return do


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z" if moment.tzinfo is None else moment.isoformat()


def give_pin(db, officer_code: str, pin: str) -> None:
    """Arrange that an officer chose ``pin`` earlier (the choosing itself is tested through
    the kiosk API: nobody sets another person's PIN)."""
    from werkzeug.security import generate_password_hash

    officer = db.scalar(select(Officer).where(Officer.code == officer_code))
    officer.pin_hash = generate_password_hash(pin, method="scrypt")
    db.commit()
