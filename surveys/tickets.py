"""One-time tickets: minted by an office, redeemed by exactly one verified response."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from surveys import audit
from surveys.accounts import office_in_scope
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Counter, Office, Officer, Target, Ticket, User
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

    def check(self, *, max_count: int) -> None:
        """Raise ValidationError naming each value out of bounds."""
        errors: dict[str, Reason] = {}
        if not self.office.strip():
            errors["office"] = Reason.REQUIRED
        if self.service is not None and len(self.service) > MAX_SERVICE_LENGTH:
            errors["service"] = Reason.TOO_LONG
        if not 1 <= self.count <= max_count:
            errors["count"] = Reason.OUT_OF_RANGE
        if errors:
            raise ValidationError("The ticket request is not valid.", errors)


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
    session: Session,
    actor: User,
    request: MintRequest,
    *,
    now: datetime,
    ttl: timedelta,
    max_count: int,
) -> Minted:
    """Create ``request.count`` unused tickets for an office in the actor's scope, in one insert.

    Each opens the survey of its counter, else of its office, and credits its officer if given.
    """
    if actor.role not in MINTING_ROLES:
        raise PermissionDenied("Only administrators and managers may issue tickets.")
    request.check(max_count=max_count)
    office = office_in_scope(session, actor, request.office)
    errors: dict[str, Reason] = {}
    counter = officer = None
    if request.counter:
        counter = session.scalar(
            select(Counter).where(Counter.code == request.counter, Counter.office_id == office.id)
        )
        if counter is None:
            errors["counter"] = Reason.NOT_IN_OFFICE
    if request.officer:
        officer = session.scalar(
            select(Officer).where(Officer.code == request.officer, Officer.office_id == office.id)
        )
        if officer is None:
            errors["officer"] = Reason.NOT_IN_OFFICE
    if errors:
        raise NotFound("No such counter or officer in this office.", errors)
    # A retired place's codes answer like paused ones: its tickets could never be used.
    retired = {
        name: Reason.RETIRED
        for name, place in (("office", office), ("counter", counter), ("officer", officer))
        if place is not None and not place.is_active
    }
    if retired:
        raise InvalidTransition("A retired place takes no ratings.", retired)
    target = _place_target(session, office.id, counter.id if counter else None)
    if target is None:
        field = "counter" if counter else "office"
        raise InvalidTransition(
            "This place has no survey code in use.", {field: Reason.NO_ACTIVE_CODE}
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
    audit.record(
        session,
        actor,
        "tickets.mint",
        now=now,
        subject_type="office",
        subject=office.code,
        after={
            "count": len(codes),
            "counter": counter.code if counter else None,
            "officer": officer.code if officer else None,
            "expires_at": expires_at,
        },
    )
    return Minted(office, counter, officer, codes, now, expires_at)


def _place_target(session: Session, office_id: int, counter_id: int | None) -> Target | None:
    """Return the oldest active code of a counter, or of the office itself."""
    query = select(Target).where(Target.office_id == office_id, Target.is_active)
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
        raise NotFound("No ticket has this code.", {"ticket": Reason.UNKNOWN_CODE})
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
        raise NotFound("This survey is no longer in use.", {"ticket": Reason.INACTIVE_CODE})
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


def ticket_for_response(session: Session, code: str) -> tuple[Ticket, str]:
    """Return the ticket with this code and the survey code its response is filed under.

    A used or expired ticket is returned too: its response may be a replay.
    """
    ticket = find_ticket(session, code)
    return ticket, ticket_target(session, ticket).code


def claim_ticket(session: Session, ticket: Ticket, *, now: datetime) -> bool:
    """Mark an unused, unexpired ticket as used in this transaction; False if it is not one.

    A conditional UPDATE: of two requests racing for one ticket, the second waits for the
    first to commit and then updates no row.
    """
    claimed = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.used_at.is_(None), Ticket.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed == 1:
        set_committed_value(ticket, "used_at", now)
        return True
    session.refresh(ticket, ["used_at", "expires_at"])
    return False
