"""One-time tickets: minted by an office, redeemed by exactly one verified response."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from surveys.accounts import office_in_scope
from surveys.errors import NotFound, PermissionDenied, TicketUsed, ValidationError
from surveys.models import Counter, Office, Officer, Target, Ticket, User
from surveys.responses import Recorded, ResponseInput, find_replay, record_response
from surveys.tokens import is_code_shaped, new_code, normalise_code

#: 31^10 ≈ 8·10^14 codes: guessing a live one among a city's tickets is hopeless.
TICKET_CODE_LENGTH = 10
MAX_SERVICE_LENGTH = 200
#: Roles that may print tickets for the offices in their scope.
MINTING_ROLES = ("admin", "manager")


@dataclass(frozen=True)
class MintRequest:
    """What an office asks for: where the tickets point, what for, and how many."""

    office: str
    counter: str | None = None
    officer: str | None = None
    service: str | None = None
    count: int = 1

    @classmethod
    def parse(cls, data: Any, *, max_count: int) -> MintRequest:
        """Check a decoded JSON body or form, naming every malformed field."""
        if not isinstance(data, dict):
            raise ValidationError("The body must be a JSON object.", {"body": "not an object"})
        errors: dict[str, str] = {}
        office = data.get("office")
        if not isinstance(office, str) or not office.strip():
            errors["office"] = "must be an office code"
        for name in ("counter", "officer"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                errors[name] = f"must be a {name} code or null"
        service = data.get("service")
        if service is not None and not isinstance(service, str):
            errors["service"] = "must be text"
        elif isinstance(service, str) and len(service) > MAX_SERVICE_LENGTH:
            errors["service"] = f"longer than {MAX_SERVICE_LENGTH} characters"
        count = data.get("count", 1)
        if isinstance(count, str) and count.strip().isdigit():
            count = int(count)  # from an HTML form
        if not isinstance(count, int) or isinstance(count, bool):
            errors["count"] = "must be a whole number"
        elif not 1 <= count <= max_count:
            errors["count"] = f"must be between 1 and {max_count}"
        unknown = set(data) - {"office", "counter", "officer", "service", "count"}
        for key in sorted(unknown):
            errors[key] = "unknown field"
        if errors:
            raise ValidationError("The ticket request is not valid.", errors)
        return cls(
            office=office.strip(),
            counter=(data.get("counter") or "").strip() or None,
            officer=(data.get("officer") or "").strip() or None,
            service=(service or "").strip() or None,
            count=count,
        )


@dataclass(frozen=True)
class Minted:
    """The tickets of one minting, all issued at the same instant."""

    office: Office
    counter: Counter | None
    officer: Officer | None
    codes: list[str]
    issued_at: datetime
    expires_at: datetime


def mint_tickets(
    session: Session, actor: User, request: MintRequest, *, now: datetime, ttl: timedelta
) -> Minted:
    """Create ``request.count`` unused tickets for an office in the actor's scope, in one insert.

    Each opens the survey of its counter, else of its office, and credits its officer if given.
    """
    if actor.role not in MINTING_ROLES:
        raise PermissionDenied("Only administrators and managers may issue tickets.")
    office = office_in_scope(session, actor, request.office)
    errors: dict[str, str] = {}
    counter = officer = None
    if request.counter:
        counter = session.scalar(
            select(Counter).where(Counter.code == request.counter, Counter.office_id == office.id)
        )
        if counter is None:
            errors["counter"] = f"no counter '{request.counter}' in office {office.code}"
    if request.officer:
        officer = session.scalar(
            select(Officer).where(Officer.code == request.officer, Officer.office_id == office.id)
        )
        if officer is None:
            errors["officer"] = f"no officer '{request.officer}' in office {office.code}"
    if errors:
        raise ValidationError("The ticket request does not fit the office.", errors)
    target = _place_target(session, office.id, counter.id if counter else None)
    if target is None:
        field = "counter" if counter else "office"
        raise ValidationError(
            "This place has no survey code in use.", {field: "no active survey code"}
        )
    codes = _fresh_codes(session, request.count)
    expires_at = now + ttl
    session.execute(
        insert(Ticket),
        [
            {
                "code": code,
                "office_id": office.id,
                "counter_id": counter.id if counter else None,
                "officer_id": officer.id if officer else None,
                "target_id": target.id,
                "service": request.service,
                "issued_at": now,
                "expires_at": expires_at,
                "issued_by_id": actor.id,
            }
            for code in codes
        ],
    )
    return Minted(office, counter, officer, codes, now, expires_at)


def _place_target(session: Session, office_id: int, counter_id: int | None) -> Target | None:
    """Return the oldest active code of a counter, or of the office itself."""
    query = select(Target).where(
        Target.office_id == office_id,
        Target.is_enabled.is_(True),
        Target.rotated_at.is_(None),
    )
    if counter_id is None:
        query = query.where(Target.kind == "office")
    else:
        query = query.where(Target.kind == "counter", Target.counter_id == counter_id)
    return session.scalar(query.order_by(Target.id).limit(1))


def _fresh_codes(session: Session, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        codes.update(new_code(TICKET_CODE_LENGTH) for _ in range(count - len(codes)))
        taken = session.scalars(select(Ticket.code).where(Ticket.code.in_(codes))).all()
        codes.difference_update(taken)
    return sorted(codes)


def find_ticket(session: Session, code: str) -> Ticket:
    """Return the ticket with this (typed) code, or raise NotFound."""
    canonical = normalise_code(code)
    ticket = None
    if is_code_shaped(canonical):
        ticket = session.scalar(select(Ticket).where(Ticket.code == canonical))
    if ticket is None:
        raise NotFound("No ticket has this code.", {"ticket": "unknown code"})
    return ticket


def ticket_target(session: Session, ticket: Ticket) -> Target:
    """Return the code a ticket's response is filed under.

    That is the code it was minted for, or, if that code was replaced since, the place's
    current one: a printed ticket stays good when the poster's code is rotated.
    """
    if ticket.target.is_active:
        return ticket.target
    current = _place_target(session, ticket.office_id, ticket.target.counter_id)
    if current is None:
        raise NotFound("This survey is no longer in use.", {"ticket": "survey not in use"})
    return current


def tickets_of_batch(
    session: Session, office: Office, issued_at: datetime, issued_by_id: int | None
) -> list[Ticket]:
    """Return the tickets minted together at ``issued_at`` by one user, for printing."""
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.office_id == office.id,
                Ticket.issued_at == issued_at,
                Ticket.issued_by_id == issued_by_id,
            )
            .order_by(Ticket.id)
        )
    )


def redeem_ticket(session: Session, payload: ResponseInput, *, now: datetime) -> Recorded:
    """Store the one verified response of a ticket; a replay of it returns it unchanged.

    Single use holds under concurrency: the ticket is claimed by a conditional UPDATE in the
    same transaction as the insert (the loser of a race updates no row and sees the winner's
    commit), and response.ticket_id is UNIQUE as a last line of defence. Raises TicketUsed or
    TicketExpired (409), NotFound for an unknown ticket, ValidationError for bad answers.
    Flushes but does not commit.
    """
    if not payload.ticket_code:
        raise ValidationError("A ticket code is required.", {"ticket": "missing"})
    body_hash = payload.body_hash()
    existing = find_replay(session, payload.id, body_hash)
    if existing is not None:
        return existing
    ticket = find_ticket(session, payload.ticket_code)
    target = ticket_target(session, ticket)
    if payload.target_code and payload.target_code != target.code:
        raise ValidationError(
            "The target does not match the ticket.", {"target": "not this ticket's survey"}
        )
    try:
        ticket.check_usable(now)
    except TicketUsed:
        # Used since our first look: by this very response (a concurrent copy) it is a replay.
        if (replay := find_replay(session, payload.id, body_hash)) is not None:
            return replay
        raise
    claimed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        # Another request redeemed it first; if that was this very response, it is a replay.
        replay = find_replay(session, payload.id, body_hash)
        if replay is not None:
            return replay
        raise TicketUsed("This ticket was already used.", {"ticket": "used"})
    set_committed_value(ticket, "used_at", now)
    return record_response(
        session,
        payload,
        now=now,
        channel="ticket",
        officer_id=ticket.officer_id,
        is_verified=True,
        ticket_id=ticket.id,
        target_code=target.code,
    )
