"""Users, their scope over the organisation tree, passwords and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from surveys import audit, throttle
from surveys.errors import NotFound, PermissionDenied, Reason, Throttled, ValidationError
from surveys.models import ApiToken, Office, Unit, User
from surveys.models.account import LANGUAGES, ROLES, TOKEN_SCOPES
from surveys.passwords import check_password
from surveys.tokens import hash_secret, new_secret

#: Checked against when an unknown email logs in, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


def hash_password(password: str) -> str:
    """Hash with scrypt, a memory-hard function (werkzeug's default)."""
    return generate_password_hash(password, method="scrypt")


def create_user(
    session: Session,
    email: str,
    password: str,
    role: str,
    *,
    scope_code: str | None = None,
    name: str = "",
    language: str = "vi",
) -> User:
    """Create a user; the scope is a unit or office code (none: the whole tree); ``language``
    is that of the e-mails they receive."""
    email = email.strip().lower()
    errors: dict[str, Reason] = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = Reason.INVALID
    if role not in ROLES:
        errors["role"] = Reason.INVALID
    try:
        check_password(password)
    except ValidationError as error:
        errors.update(error.fields)
    if role != "admin" and not scope_code:
        errors["scope"] = Reason.REQUIRED
    if language not in LANGUAGES:
        errors["language"] = Reason.UNKNOWN_LOCALE
    if session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = Reason.ALREADY_USED
    if errors:
        raise ValidationError("The user cannot be created.", errors)
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password),
        role=role,
        language=language,
    )
    if scope_code:
        unit = session.scalar(select(Unit).where(Unit.code == scope_code))
        office = None if unit else session.scalar(select(Office).where(Office.code == scope_code))
        if unit is None and office is None:
            raise ValidationError(
                f"No unit or office has the code {scope_code}.", {"scope": Reason.UNKNOWN_CODE}
            )
        user.scope_unit, user.scope_office = unit, office
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str, *, now: datetime) -> User | None:
    """Return the active user with these credentials, or None (same cost either way).

    Every attempt is recorded in the audit log: the sign-in, or the failure with the address
    that was typed (never the password).
    """
    typed = email.strip().lower()
    user = session.scalar(select(User).where(User.email == typed))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
    elif check_password_hash(user.password_hash, password) and user.is_active:
        audit.record(session, user, "auth.sign_in", now=now, subject_type="user", subject=typed)
        return user
    audit.record(
        session,
        None,
        "auth.sign_in_failed",
        now=now,
        subject_type="user",
        subject=typed,
        actor_email=typed,
    )
    return None


@dataclass(frozen=True)
class SignInOutcome:
    user: User | None
    #: The wait a failure just started (the login is throttled from now on), if any.
    wait: timedelta | None


def sign_in(
    session: Session,
    email: str,
    password: str,
    *,
    now: datetime,
    policy: throttle.ThrottlePolicy,
    known_browser: bool = False,
) -> SignInOutcome:
    """Check a password under the per-account throttle.

    Raises Throttled while the login must wait (the password is not even checked). Returns
    the user, or no user and the wait this failure starts (if it starts one). A browser that
    signed in to this login before (``known_browser``) is neither slowed nor counted: an
    attacker's guesses elsewhere cannot keep the owner out.
    """
    if not known_browser:
        wait = throttle.wait_left(session, email, now)
        if wait is not None:
            raise Throttled("Too many failed sign-ins; wait.", int(wait.total_seconds()) + 1)
    user = authenticate(session, email, password, now=now)
    if user is not None:
        throttle.clear(session, email)
        return SignInOutcome(user, None)
    if known_browser:
        return SignInOutcome(None, None)
    return SignInOutcome(None, throttle.note_failure(session, email, now=now, policy=policy))


def create_api_token(
    session: Session,
    email: str,
    *,
    now: datetime,
    label: str = "",
    actor: User | None = None,
    scope: str = "read",
    lifetime: timedelta = timedelta(days=90),
    max_lifetime: timedelta = timedelta(days=365),
) -> str:
    """Create an API token for a user and return it; only its hash is stored.

    ``actor`` None is the command line; otherwise a user creates a token for themself. The
    token may do what ``scope`` allows (within its owner's role and scope) until ``now +
    lifetime`` (at most ``max_lifetime``).
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("No such user.", {"email": Reason.UNKNOWN_CODE})
    if actor is not None and actor.id != user.id:
        raise PermissionDenied("A token is created by its owner.")
    errors: dict[str, Reason] = {}
    if scope not in TOKEN_SCOPES:
        errors["scope"] = Reason.INVALID
    if lifetime <= timedelta(0) or lifetime > max_lifetime:
        errors["days"] = Reason.OUT_OF_RANGE
    if errors:
        raise ValidationError("The token cannot be created.", errors)
    label = " ".join((label or "").split())[:100]
    token = new_secret("hl_")
    api_token = ApiToken(
        user_id=user.id,
        token_hash=hash_secret(token),
        label=label,
        created_at=now,
        scope=scope,
        expires_at=now + lifetime,
    )
    session.add(api_token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.create",
        now=now,
        subject_type="token",
        subject=str(api_token.id),
        after={
            "owner": user.email,
            "label": label,
            "scope": scope,
            "expires_at": api_token.expires_at,
        },
    )
    return token


#: How stale an API token's last-used time may get; writing it on every read would turn
#: each GET into a write transaction.
TOKEN_USE_RESOLUTION = timedelta(hours=1)


@dataclass(frozen=True)
class TokenUse:
    """The user an API token stands for, what it may do, and whether its last-used time is
    due a refresh. An expired token is returned with ``is_expired`` (it opens nothing)."""

    user: User
    token_id: int
    is_use_due: bool
    scope: str = "read"
    is_expired: bool = False

    def allows(self, needed: str) -> bool:
        """Whether this token's scope covers ``needed`` (read < read+tickets < admin)."""
        return TOKEN_SCOPES.index(self.scope) >= TOKEN_SCOPES.index(needed)


def user_for_token(session: Session, token: str, now: datetime) -> TokenUse | None:
    """Return the active user behind an API token, or None; reads, never writes.

    ``is_use_due`` says that the token's last-used time is more than TOKEN_USE_RESOLUTION old:
    the caller records it with ``note_token_use`` in a transaction of its own.
    """
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token)))
    if api_token is None or api_token.revoked_at is not None or not api_token.user.is_active:
        return None
    if now >= api_token.expires_at:
        return TokenUse(api_token.user, api_token.id, False, api_token.scope, is_expired=True)
    due = api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_RESOLUTION
    return TokenUse(api_token.user, api_token.id, due, api_token.scope)


def note_token_use(session: Session, token_id: int, now: datetime) -> None:
    """Record that an API token was used at ``now`` (bookkeeping, to the hour)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


def visible_offices(user: User) -> Select[tuple[Office]]:
    """Return a query of the offices in the user's scope, by name."""
    query = select(Office).order_by(Office.name)
    if user.scope_office_id is not None:
        return query.where(Office.id == user.scope_office_id)
    if user.scope_unit_id is not None:
        subtree = select(Unit.id).where(Unit.path.startswith(user.scope_unit.path))
        return query.where(Office.unit_id.in_(subtree))
    if user.role == "admin":
        return query
    return query.where(Office.id.is_(None))


def office_in_scope(session: Session, user: User, code: str) -> Office:
    """Return the office with this code if the user may see it, else raise."""
    office = session.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise NotFound("No office has this code.")
    visible = session.scalar(visible_offices(user).where(Office.id == office.id))
    if visible is None:
        raise PermissionDenied("This office is outside your scope.")
    return office
