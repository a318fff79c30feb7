"""Command-line interface: flask --app wsgi COMMAND. Each command wraps one domain function."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from kiosk.settings import settings
from surveys import accounts, demo, kiosks, org_import, outbox, rollups, schema, sessions
from surveys import retention as retention_rules
from surveys.db import make_sessionmaker, utcnow
from surveys.errors import DomainError
from surveys.models import User
from surveys.models.account import LANGUAGES, TOKEN_SCOPES
from surveys.periods import parse_day

db_cli = AppGroup("db", help="Create or migrate the database schema.")
rollups_cli = AppGroup("rollups", help="The counts the dashboards read.")


def _session():
    return make_sessionmaker(current_app.extensions["hailong.engine"])()


def _minutes(delta: timedelta) -> int:
    return round(delta.total_seconds() / 60)


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to REVISION (default: the newest)."""
    schema.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at revision {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the schema back to REVISION."""
    schema.downgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at revision {revision}.")


@click.command("seed-demo")
@with_appcontext
@click.option("--responses", default=0, show_default=True, help="Synthetic responses to add.")
@click.option("--days", default=90, show_default=True, help="Spread them over this many past days.")
@click.option("--seed", default=1, show_default=True, help="Random seed, for a repeatable city.")
def seed_demo(responses: int, days: int, seed: int) -> None:
    """Create the demo Hanoi city (first run only) and print its URLs and logins."""
    config = settings()
    base = config.public_base_url
    with _session() as session:
        city = demo.seed_city(session, seed=seed)
        added = 0
        if city.created and responses:
            added = demo.seed_responses(session, responses, days=days, now=utcnow(), seed=seed)
        counter_code, target_code = demo.showcase_codes(session)
        now = utcnow()
        withdrawn = kiosks.withdraw_open_pairings(session, counter_code, now=now)
        issued = kiosks.issue_pairing(
            session,
            counter_code,
            now=now,
            link_ttl=config.pairing_link_ttl,
            code_ttl=config.pairing_code_ttl,
        )
        counter = issued.pairing.counter
        place = f"{counter.name}, {counter.office.name} ({counter.code})"
        session.commit()
    state = "created" if city.created else "already there, kept as it is"
    click.echo(
        f"Demo city {state}: {city.units} units, {city.offices} offices, "
        f"{city.counters} counters, {city.officers} officers; {added} responses added."
    )
    click.echo("")
    click.echo(f"  Kiosk of {place}:")
    click.echo(
        f"    pairing URL (one-time, open it on the tablet): {base}/kiosk/pair/{issued.secret}"
    )
    click.echo(
        f"    or open {base}/kiosk/pair on the tablet and type {issued.grouped_code} "
        f"(valid {_minutes(config.pairing_code_ttl)} minutes)"
    )
    if withdrawn:
        click.echo(
            "    (this replaces the pairing code and URL printed before; they no longer work)"
        )
    click.echo(f"  Phone survey URL:   {base}/s/{target_code}")
    click.echo(f"  Manager dashboard:  {base}/login")
    click.echo("")
    click.echo(f"  Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role, scope, _name in demo.DEMO_USERS:
        click.echo(f"    {email:<24} {role:<8} {scope or 'whole city'}")


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "manager", "viewer"]), required=True)
@click.option("--scope", default=None, help="Unit or office code the user may see.")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--language",
    type=click.Choice(list(LANGUAGES)),
    default="vi",
    show_default=True,
    help="Language of the e-mails the user receives.",
)
def create_user(email: str, role: str, scope: str | None, name: str, language: str) -> None:
    """Create a user; the password is read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    with _session() as session:
        try:
            user = accounts.create_user(
                session, email, password, role, scope_code=scope, name=name, language=language
            )
        except DomainError as error:
            _fail(error)
        session.commit()
        click.echo(f"Created {user.role} {user.email}.")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option(
    "--scope",
    type=click.Choice(list(TOKEN_SCOPES)),
    default="read",
    show_default=True,
    help="read: GET only; read+tickets: also mint tickets; admin: everything EMAIL may do.",
)
@click.option("--days", type=int, default=None, help="Lifetime (default API_TOKEN_DAYS).")
@click.option("--label", default="", help="What the token is for.")
def create_token(email: str, scope: str, days: int | None, label: str) -> None:
    """Print a new API bearer token for EMAIL, alone on the last line."""
    config = settings()
    lifetime = timedelta(days=days) if days else config.api_token_lifetime
    with _session() as session:
        try:
            token = accounts.create_api_token(
                session,
                email,
                now=utcnow(),
                scope=scope,
                label=label,
                lifetime=lifetime,
                max_lifetime=config.api_token_max_lifetime,
            )
        except DomainError as error:
            _fail(error)
        session.commit()
    click.echo("Keep this token secret; it is shown only once:")
    click.echo(token)


@click.command("enroll-kiosk")
@with_appcontext
@click.argument("counter_code")
@click.option(
    "--token", "as_token", is_flag=True, help="Print a device token for a scripted client."
)
@click.option("--name", default="", help="A name for the device.")
def enroll_kiosk(counter_code: str, as_token: bool, name: str) -> None:
    """Print a pairing code and a one-time pairing URL (alone on the last line) for a counter."""
    config = settings()
    base = config.public_base_url
    with _session() as session:
        try:
            if as_token:
                line = kiosks.enroll_device_token(session, counter_code, now=utcnow(), name=name)
            else:
                issued = kiosks.issue_pairing(
                    session,
                    counter_code,
                    now=utcnow(),
                    link_ttl=config.pairing_link_ttl,
                    code_ttl=config.pairing_code_ttl,
                )
                line = f"{base}/kiosk/pair/{issued.secret}"
        except DomainError as error:
            _fail(error)
        session.commit()
    if as_token:
        click.echo("Device token (send as 'Authorization: Bearer ...'):")
    else:
        click.echo(
            f"On the tablet at {counter_code.upper()}, open {base}/kiosk/pair and type this code "
            f"within {_minutes(config.pairing_code_ttl)} minutes:"
        )
        click.echo(f"    {issued.grouped_code}")
        hours = round(config.pairing_link_ttl.total_seconds() / 3600)
        click.echo(f"Or open this link on the tablet within {hours} hours:")
    click.echo(line)


@click.command("import-org")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change.")
def import_org(file: str, dry_run: bool) -> None:
    """Import units, offices, counters and officers from a CSV or XLSX file.

    Header: type,code,name,parent,timezone,address. Nothing is applied if any row has a
    problem; every problem is listed by row and column.
    """
    path = Path(file)
    content = path.read_bytes()
    with _session() as session:
        try:
            rows = org_import.read_rows(content, path.name)
        except DomainError as error:
            _fail(error)
        plan = org_import.plan_import(session, None, rows)
        for problem in plan.problems:
            value = f" ({problem.value!r})" if problem.value else ""
            click.echo(f"row {problem.row}, {problem.column}: {problem.reason}{value}", err=True)
        if not plan.is_valid:
            raise click.ClickException(
                f"{len(plan.problems)} problem(s) in {plan.rows} rows; nothing was applied."
            )
        for kind, counts in plan.counts.items():
            click.echo(
                f"{kind + 's':<9} {counts['create']:>5} new {counts['update']:>5} changed "
                f"{counts['unchanged']:>5} unchanged"
            )
        if dry_run:
            click.echo("Dry run: nothing was applied.")
            return
        org_import.apply_import(session, None, rows, now=utcnow(), source=path.name)
        session.commit()
    click.echo(f"Applied {plan.changed} change(s) from {plan.rows} rows.")


@click.command("erase-old-comments")
@with_appcontext
def erase_old_comments() -> None:
    """Erase the text of comments older than COMMENT_RETENTION_DAYS (ratings stay); run daily."""
    retention = settings().comment_retention
    if retention is None:
        click.echo("COMMENT_RETENTION_DAYS is 0: comments are kept; nothing erased.")
        return
    with _session() as session:
        count = retention_rules.erase_old_comments(session, now=utcnow(), older_than=retention)
        session.commit()
    click.echo(f"Erased {count} comments older than {retention.days} days.")


@click.command("purge-sessions")
@with_appcontext
def purge_sessions() -> None:
    """Delete the records of sessions that ended more than 30 days ago; run daily."""
    with _session() as session:
        count = sessions.purge_sessions(
            session,
            now=utcnow(),
            lifetimes=settings().session_lifetimes,
            keep=timedelta(days=30),
        )
        session.commit()
    click.echo(f"Deleted {count} old sessions.")


@click.command("purge-outbox")
@with_appcontext
def purge_outbox() -> None:
    """Delete e-mails and webhook deliveries sent more than OUTBOX_KEEP_DAYS ago, or given up
    more than OUTBOX_KEEP_FAILED_DAYS ago (the worker does it daily)."""
    from kiosk.worker import Checks

    count = Checks(current_app._get_current_object()).purge_outbox()
    retention = settings().outbox_retention
    click.echo(
        f"Deleted {count} outbox messages sent more than {retention.keep_sent.days} days ago "
        f"or given up more than {retention.keep_failed.days} days ago."
    )


def _day(_ctx, param, value: str | None):
    if value is None:
        return None
    day = parse_day(value)
    if day is None:
        raise click.BadParameter("write the day as YYYY-MM-DD", param=param)
    return day


@rollups_cli.command("rebuild")
@click.option("--from", "start", callback=_day, help="First local day (YYYY-MM-DD); default: all.")
@click.option("--to", "end", callback=_day, help="Last local day (YYYY-MM-DD); default: all.")
def rollups_rebuild(start, end) -> None:
    """Recompute the rollups of these days exactly from the counted responses."""
    with _session() as session:
        counted = rollups.rebuild_rollups(session, start=start, end=end)
        session.commit()
    span = f"{start or 'the first day'} to {end or 'the last day'}"
    click.echo(f"Rollups rebuilt from {counted} counted responses, {span}.")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--name", default=None, help="This worker's name in claims (default host:pid).")
def worker_command(once: bool, name: str | None) -> None:
    """Send e-mails and webhook deliveries, and run the periodic checks, until stopped."""
    from kiosk import worker

    app = current_app._get_current_object()
    runner = worker.Worker(app, name=name)
    if once:
        sent = runner.send_due()
        click.echo(f"Sent {sent} message(s).")
        return
    click.echo(f"Worker {runner.name} started (Ctrl+C stops).")
    worker.run_forever(runner, worker.periodic_jobs(app))
    click.echo(f"Worker {runner.name} stopped.")


@click.command("send-test-mail")
@with_appcontext
@click.argument("email")
def send_test_mail(email: str) -> None:
    """Queue a test e-mail to EMAIL (a worker sends it), to check the SMTP settings; in the
    language of the account with this address, if there is one."""
    with _session() as session:
        language = session.scalar(select(User.language).where(User.email == email.strip().lower()))
        outbox.enqueue(
            session,
            "email",
            {"to": email, "template": "test", "locale": language or settings().default_language},
            now=utcnow(),
        )
        session.commit()
    click.echo(f"A test e-mail to {email} is queued; a worker sends it.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(rollups_cli)
    for command in (
        seed_demo,
        create_user,
        create_token,
        enroll_kiosk,
        import_org,
        erase_old_comments,
        purge_sessions,
        purge_outbox,
        worker_command,
        send_test_mail,
    ):
        app.cli.add_command(command)
