"""Users, their scope over the organisation tree, passwords and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from surveys.errors import NotFound, PermissionDenied, ValidationError
from surveys.models import ApiToken, Office, Unit, User
from surveys.models.account import ROLES
from surveys.tokens import hash_secret, new_secret

MIN_PASSWORD_LENGTH = 10
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
) -> User:
    """Create a user; the scope is a unit or office code (none: the whole tree)."""
    email = email.strip().lower()
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = "not an email address"
    if role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"at least {MIN_PASSWORD_LENGTH} characters"
    if role != "admin" and not scope_code:
        errors["scope"] = "managers and viewers need a unit or office scope"
    if session.scalar(select(User.id).where(User.email == email)):
        errors["email"] = "already registered"
    if errors:
        raise ValidationError("The user cannot be created.", errors)
    user = User(email=email, name=name, password_hash=hash_password(password), role=role)
    if scope_code:
        unit = session.scalar(select(Unit).where(Unit.code == scope_code))
        office = None if unit else session.scalar(select(Office).where(Office.code == scope_code))
        if unit is None and office is None:
            raise ValidationError("Unknown scope.", {"scope": f"no unit or office '{scope_code}'"})
        user.scope_unit, user.scope_office = unit, office
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same cost either way)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    return user


def create_api_token(session: Session, email: str) -> str:
    """Create an API token for a user and return it; only its hash is stored."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("No such user.", {"email": "unknown"})
    token = new_secret("hl_")
    session.add(ApiToken(user_id=user.id, token_hash=hash_secret(token)))
    session.flush()
    return token


#: How stale an API token's last-used time may get; writing it on every read would turn
#: each GET into a write transaction.
TOKEN_USE_RESOLUTION = timedelta(hours=1)


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """Return the active user behind an API token, noting (to the hour) when it was used."""
    api_token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(token)))
    if api_token is None or api_token.revoked_at is not None or not api_token.user.is_active:
        return None
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_USE_RESOLUTION:
        api_token.last_used_at = now
    return api_token.user


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
