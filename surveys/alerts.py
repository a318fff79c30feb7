"""Alerts: what happens at an office that its managers should look at now.

Rules, on by default for every office, adjustable per unit or office (``AlertRule``):

1. ``harassment`` — any rating with the reason "harassment or improper demands", at once;
2. ``burst`` — at least 4 negative ratings within 15 minutes making at least half of the
   office's ratings in that window (HappyOrNot's rule; both numbers adjustable);
3. ``fall`` — the last 7 days' satisfaction below the office's previous 8 weeks, significant
   by a two-proportion test at 95 % with at least MIN_RESPONSES on each side (daily; the
   windows and the minimum adjustable);
4. ``kiosk_silent`` — a kiosk silent for KIOSK_SILENT_MINUTES while its office is open.

An alert is raised once per **episode**, not once per rating: while an episode of a rule is open
for an office and subject (an officer, a counter, a kiosk), new triggers only add to its count
and figures. A unique index on open episodes makes this hold when two ratings arrive at once.
Raising one writes, in the same transaction, an e-mail to each manager whose scope holds the
office and a webhook delivery of ``alert.raised`` (surveys/outbox.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import sqrt
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session

from surveys import audit, outbox, webhooks
from surveys.errors import InvalidTransition, NotFound, PermissionDenied, Reason, ValidationError
from surveys.models import Alert, AlertRule, KioskDevice, Office, Response, Unit, User
from surveys.spec import QuestionSpec

RULES = ("harassment", "burst", "fall", "kiosk_silent", "case_overdue")
HARASSMENT = "harassment"
#: Reports about the same officer (or counter) this close to the last one, while the alert is
#: not yet acknowledged, belong to one episode.
HARASSMENT_EPISODE = timedelta(hours=1)
NOTE_MAX = 1000


@dataclass(frozen=True)
class RuleSettings:
    is_enabled: bool = True
    #: Burst: negative ratings within ``burst_minutes`` that raise it.
    burst_count: int = 4
    burst_minutes: int = 15
    #: Fall: the last ``fall_recent_days`` against the ``fall_baseline_weeks`` just before.
    fall_recent_days: int = 7
    fall_baseline_weeks: int = 8
    #: Fall: the ratings needed on each side; None: the MIN_RESPONSES setting.
    fall_min_responses: int | None = None

    @property
    def burst_window(self) -> timedelta:
        return timedelta(minutes=self.burst_minutes)

    @property
    def fall_windows(self) -> tuple[int, int]:
        """Return (recent days, baseline weeks): offices that share them share one query."""
        return self.fall_recent_days, self.fall_baseline_weeks


#: Negative ratings must be at least this share of all in the burst window.
BURST_SHARE = 0.5
DEFAULTS = RuleSettings()
#: The numbers an administrator may adjust per place, each with its allowed range.
NUMBER_RANGES: dict[str, tuple[int, int]] = {
    "burst_count": (1, 1000),
    "burst_minutes": (1, 24 * 60),
    "fall_recent_days": (1, 90),
    "fall_baseline_weeks": (1, 104),
    "fall_min_responses": (1, 100_000),
}


# Settings per place ---------------------------------------------------------------------------


def _path_ids(path: str) -> list[int]:
    """Return the unit ids of a materialised path, nearest (last) first."""
    return [int(part) for part in reversed(path.strip("/").split("/")) if part]


def _ancestor_ids(unit: Unit) -> list[int]:
    """Return the ids of a unit and its ancestors, nearest first (from its materialised path)."""
    return _path_ids(unit.path)


def _inherit(rows: list[AlertRule]) -> RuleSettings:
    """Return the settings of the adjustments ``rows`` (nearest first) over the defaults: the
    nearest says whether the rule is on; each number comes from the nearest that sets it."""
    numbers = {
        name: next((getattr(r, name) for r in rows if getattr(r, name)), getattr(DEFAULTS, name))
        for name in NUMBER_RANGES
    }
    return RuleSettings(next((r.is_enabled for r in rows), DEFAULTS.is_enabled), **numbers)


def rule_settings(session: Session, office: Office, rule: str) -> RuleSettings:
    """Return the settings of ``rule`` at ``office``: its own, else its nearest unit's, else the
    defaults; a number left empty at one level is inherited from the next."""
    ancestors = _ancestor_ids(office.unit)
    rows = session.scalars(
        select(AlertRule).where(
            AlertRule.rule == rule,
            or_(AlertRule.office_id == office.id, AlertRule.unit_id.in_(ancestors)),
        )
    ).all()
    order = {("office", office.id): -1} | {("unit", uid): i for i, uid in enumerate(ancestors)}
    rows = sorted(
        rows,
        key=lambda r: order[("office", r.office_id) if r.office_id else ("unit", r.unit_id)],
    )
    return _inherit(rows)


def rule_settings_of_offices(session: Session, rule: str) -> dict[int, RuleSettings]:
    """Return the settings of ``rule`` at every active office, in two queries."""
    rows = session.scalars(select(AlertRule).where(AlertRule.rule == rule)).all()
    by_office = {r.office_id: r for r in rows if r.office_id is not None}
    by_unit = {r.unit_id: r for r in rows if r.unit_id is not None}
    found = {}
    for office_id, path in session.execute(
        select(Office.id, Unit.path).join(Unit, Office.unit_id == Unit.id).where(Office.is_active)
    ):
        chain = [by_office.get(office_id), *(by_unit.get(uid) for uid in _path_ids(path))]
        found[office_id] = _inherit([r for r in chain if r is not None])
    return found


def set_rule(
    session: Session,
    actor: User,
    place_code: str,
    rule: str,
    *,
    is_enabled: bool,
    now: datetime,
    **numbers: int | None,
) -> AlertRule:
    """Set a rule for a unit's subtree or one office (administrators, within their scope).

    ``numbers`` are those of NUMBER_RANGES (``burst_count=6``, ``fall_baseline_weeks=12``...);
    one left out or None is inherited.
    """
    if actor.role != "admin":
        raise PermissionDenied("Only administrators adjust alert rules.")
    if rule not in RULES:
        raise ValidationError("Unknown rule.", {"rule": Reason.UNKNOWN_CHOICE})
    unknown = set(numbers) - set(NUMBER_RANGES)
    if unknown:
        raise TypeError(f"set_rule() got unknown numbers {sorted(unknown)}")
    problems = {}
    for name, value in numbers.items():
        low, high = NUMBER_RANGES[name]
        if value is not None and not low <= value <= high:
            problems[name] = Reason.OUT_OF_RANGE
    if problems:
        raise ValidationError("The numbers are out of range.", problems)
    code = (place_code or "").strip().upper()
    unit = session.scalar(select(Unit).where(Unit.code == code))
    office = None if unit else session.scalar(select(Office).where(Office.code == code))
    if unit is None and office is None:
        raise NotFound("No unit or office has this code.", {"place": Reason.UNKNOWN_CODE})
    if not _admin_holds(actor, unit, office):
        raise PermissionDenied("This place is outside your scope.", {"place": Reason.NOT_IN_SCOPE})
    where = (
        (AlertRule.unit_id == unit.id, AlertRule.office_id.is_(None))
        if unit
        else (AlertRule.office_id == office.id, AlertRule.unit_id.is_(None))
    )
    row = session.scalar(select(AlertRule).where(AlertRule.rule == rule, *where))
    before = _rule_facts(row) if row else None
    if row is None:
        row = AlertRule(unit_id=unit.id if unit else None, office_id=office.id if office else None)
        row.rule = rule
        session.add(row)
    row.is_enabled = is_enabled
    for name in NUMBER_RANGES:
        setattr(row, name, numbers.get(name))
    session.flush()
    audit.record(
        session,
        actor,
        "alert_rule.set",
        now=now,
        subject_type="unit" if unit else "office",
        subject=f"{code} {rule}",
        before=before,
        after=_rule_facts(row),
    )
    return row


def _rule_facts(row: AlertRule) -> dict[str, Any]:
    return {"enabled": row.is_enabled} | {name: getattr(row, name) for name in NUMBER_RANGES}


def _admin_holds(actor: User, unit: Unit | None, office: Office | None) -> bool:
    if actor.scope_office_id is not None:
        return office is not None and office.id == actor.scope_office_id
    if actor.scope_unit_id is not None:
        path = unit.path if unit else office.unit.path
        return path.startswith(actor.scope_unit.path)
    return True


def rules_in_scope(session: Session, actor: User) -> list[tuple[str, str, AlertRule]]:
    """Return (place kind, place code, row) of the adjustments the actor may see."""
    found = []
    for row, unit, office in session.execute(
        select(AlertRule, Unit, Office)
        .outerjoin(Unit, AlertRule.unit_id == Unit.id)
        .outerjoin(Office, AlertRule.office_id == Office.id)
        .order_by(Unit.code, Office.code, AlertRule.rule)
    ):
        if _admin_holds(actor, unit, office):
            found.append(("unit" if unit else "office", (unit or office).code, row))
    return found


# Raising ------------------------------------------------------------------------------------


def managers_of(session: Session, office: Office) -> list[User]:
    """Return the active managers whose scope holds the office (the office or a unit above)."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.role == "manager",
                User.is_active,
                or_(
                    User.scope_office_id == office.id,
                    User.scope_unit_id.in_(_ancestor_ids(office.unit)),
                ),
            )
            .order_by(User.email)
        )
    )


def alert_data(alert: Alert) -> dict[str, Any]:
    """Return what a webhook receives about an alert (no comment text, no contact details)."""
    office = alert.office
    counter = next((c for c in office.counters if c.id == alert.counter_id), None)
    officer = next((o for o in office.officers if o.id == alert.officer_id), None)
    return {
        "alert": alert.id,
        "rule": alert.rule,
        "office": {"code": office.code, "name": office.name},
        "counter": {"code": counter.code, "name": counter.name} if counter else None,
        "officer": {"code": officer.code, "name": officer.name} if officer else None,
        "figures": alert.figures,
        "raised_at": alert.raised_at.isoformat(timespec="seconds") + "Z",
        "acknowledged_at": alert.acknowledged_at.isoformat(timespec="seconds") + "Z"
        if alert.acknowledged_at
        else None,
    }


def _insert_open(session: Session, values: dict[str, Any]) -> bool:
    """Insert an open episode unless one exists for its office, rule and key; True if inserted."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    statement = (
        dialect_insert(Alert.__table__)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["office_id", "rule", "episode_key"],
            index_where=Alert.__table__.c.closed_at.is_(None),
        )
        .execution_options(preserve_rowcount=True)
    )
    return session.execute(statement).rowcount == 1


def raise_alert(
    session: Session,
    office: Office,
    rule: str,
    *,
    now: datetime,
    figures: dict[str, Any],
    episode_key: str = "",
    counter_id: int | None = None,
    officer_id: int | None = None,
    quiet: timedelta | None = None,
    ends_on_acknowledgement: bool = True,
) -> Alert | None:
    """Raise an alert, or add to the open episode it belongs to; return it when newly raised.

    An open episode goes on while its last trigger is within ``quiet`` (None: until closed by
    ``close_episode``) and, when ``ends_on_acknowledgement``, while nobody acknowledged it.
    """
    current = session.scalar(
        select(Alert).where(
            Alert.office_id == office.id,
            Alert.rule == rule,
            Alert.episode_key == episode_key,
            Alert.closed_at.is_(None),
        )
    )
    if current is not None:
        is_stale = quiet is not None and current.last_triggered_at < now - quiet
        if not is_stale and not (ends_on_acknowledgement and current.acknowledged_at):
            current.last_triggered_at = max(current.last_triggered_at, now)
            current.trigger_count += 1
            current.figures = {**figures, "ratings_in_episode": current.trigger_count}
            session.flush()
            return None
        current.closed_at = now
        session.flush()
    inserted = _insert_open(
        session,
        {
            "office_id": office.id,
            "rule": rule,
            "episode_key": episode_key,
            "counter_id": counter_id,
            "officer_id": officer_id,
            "figures": {**figures, "ratings_in_episode": 1},
            "raised_at": now,
            "last_triggered_at": now,
            "trigger_count": 1,
        },
    )
    if not inserted:  # another transaction raised it a moment ago: this is its episode
        return None
    alert = session.scalar(
        select(Alert).where(
            Alert.office_id == office.id,
            Alert.rule == rule,
            Alert.episode_key == episode_key,
            Alert.closed_at.is_(None),
        )
    )
    _notify(session, alert, now=now)
    return alert


def _notify(session: Session, alert: Alert, *, now: datetime) -> None:
    for manager in managers_of(session, alert.office):
        outbox.enqueue(
            session,
            "email",
            {
                "to": manager.email,
                "template": "alert",
                "alert_id": alert.id,
                "locale": manager.language,
            },
            now=now,
            event="alert.raised",
        )
    webhooks.publish(session, "alert.raised", alert_data(alert), now=now)


def close_episode(session: Session, office_id: int, rule: str, episode_key: str, now: datetime):
    """End the open episode of a rule for a subject (its cause went away)."""
    session.execute(
        update(Alert)
        .where(
            Alert.office_id == office_id,
            Alert.rule == rule,
            Alert.episode_key == episode_key,
            Alert.closed_at.is_(None),
        )
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )


# Rules 1 and 2: checked as a rating is stored -------------------------------------------------


@dataclass(frozen=True)
class NewRating:
    """What the rules need to know of a rating just stored."""

    office_id: int
    counter_id: int | None
    officer_id: int | None
    channel: str
    submitted_at: datetime
    headline_polarity: int
    #: The keys of every reason chosen, with whether each is charged to the officer.
    reasons: tuple[tuple[str, bool], ...]
    response_id: uuid.UUID | None = None
    #: The stored answers, (question, choice ids or text), for the response.created event.
    answers: tuple[tuple[QuestionSpec, list[int] | str], ...] = ()


def reasons_of(rows: list[tuple[QuestionSpec, list[int] | str]]) -> tuple[tuple[str, bool], ...]:
    """Return (choice key, charged to the officer) of the several-choices answers."""
    found = []
    for question, value in rows:
        if question.kind == "multi" and not isinstance(value, str):
            found.extend(
                (c.key, c.is_charged_to_officer) for c in question.choices if c.id in value
            )
    return tuple(found)


def check_new_rating(session: Session, rating: NewRating, *, now: datetime) -> None:
    """Apply rules 1 and 2 to a rating just stored (flush, never commit).

    Costs nothing for a rating that is neither negative nor a harassment report (and, with no
    webhook subscribed to ``response.created``, nothing for that event either).
    """
    webhooks.publish_response(session, rating, now=now)
    is_harassment = any(key == HARASSMENT for key, _ in rating.reasons)
    if rating.headline_polarity >= 0 and not is_harassment:
        return
    office = session.get(Office, rating.office_id)
    if is_harassment:
        _check_harassment(session, office, rating, now=now)
    if rating.headline_polarity < 0:
        _check_burst(session, office, rating, now=now)


def _check_harassment(
    session: Session, office: Office, rating: NewRating, *, now: datetime
) -> None:
    """Rule 1: a harassment report raises an alert at once (once per episode)."""
    if not rule_settings(session, office, "harassment").is_enabled:
        return
    subject = (
        f"officer:{rating.officer_id}"
        if rating.officer_id
        else (f"counter:{rating.counter_id}" if rating.counter_id else "")
    )
    raise_alert(
        session,
        office,
        "harassment",
        now=now,
        figures={
            "reasons": [key for key, _ in rating.reasons],
            "channel": rating.channel,
            "submitted_at": rating.submitted_at.isoformat(timespec="seconds") + "Z",
        },
        episode_key=subject,
        counter_id=rating.counter_id,
        officer_id=rating.officer_id,  # harassment is a reason about the person
        quiet=HARASSMENT_EPISODE,
    )


def check_later_answers(
    session: Session,
    response_id: uuid.UUID,
    rows: list[tuple[QuestionSpec, list[int] | str]],
    *,
    now: datetime,
) -> None:
    """Rule 1 for reasons given after the rating was stored (the phone's optional second
    step, where the officer survey asks them); flush, never commit. A held rating's reasons
    raise nothing until it is accepted, as for a first step."""
    reasons = reasons_of(rows)
    if not any(key == HARASSMENT for key, _ in reasons):
        return
    stored = session.execute(
        select(
            Response.office_id,
            Response.counter_id,
            Response.officer_id,
            Response.channel,
            Response.submitted_at,
            Response.headline_polarity,
        ).where(Response.id == response_id, Response.is_counted)
    ).one_or_none()
    if stored is None:
        return
    office_id, counter_id, officer_id, channel, submitted_at, polarity = stored
    rating = NewRating(
        office_id, counter_id, officer_id, channel, submitted_at, polarity, reasons, response_id
    )
    _check_harassment(session, session.get(Office, office_id), rating, now=now)


def _check_burst(session: Session, office: Office, rating: NewRating, *, now: datetime) -> None:
    settings = rule_settings(session, office, "burst")
    window = settings.burst_window
    # A kiosk's rating replayed hours later is history, not a burst happening now.
    if not settings.is_enabled or rating.submitted_at < now - window:
        return
    negative, total, counters = session.execute(
        select(
            func.count(case((Response.headline_polarity < 0, 1))),
            func.count(),
            func.count(func.distinct(Response.counter_id)),
        ).where(
            Response.office_id == office.id,
            Response.submitted_at > now - window,
            Response.submitted_at <= now,
            Response.is_counted,
        )
    ).one()
    if negative < settings.burst_count or negative < BURST_SHARE * total:
        return
    raise_alert(
        session,
        office,
        "burst",
        now=now,
        figures={
            "negative": negative,
            "total": total,
            "minutes": settings.burst_minutes,
            "threshold": settings.burst_count,
        },
        counter_id=rating.counter_id if counters == 1 else None,
        quiet=window,
    )


# Acknowledging -------------------------------------------------------------------------------


def alerts_query(actor: User):
    """Return a query of the alerts of the offices in the actor's scope, newest first."""
    from surveys.accounts import visible_offices

    offices = visible_offices(actor).with_only_columns(Office.id).order_by(None)
    return (
        select(Alert)
        .where(Alert.office_id.in_(offices))
        .order_by(Alert.acknowledged_at.is_not(None), Alert.raised_at.desc(), Alert.id.desc())
    )


def alert_in_scope(session: Session, actor: User, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("No such alert.")
    if session.scalar(alerts_query(actor).where(Alert.id == alert_id)) is None:
        raise PermissionDenied("This alert is about an office outside your scope.")
    return alert


def acknowledge(session: Session, actor: User, alert_id: int, *, note: str, now: datetime) -> Alert:
    """Record that a manager (or administrator) in scope has seen to the alert, with a note."""
    if actor.role not in ("admin", "manager"):
        raise PermissionDenied("Only managers acknowledge alerts.")
    alert = alert_in_scope(session, actor, alert_id)
    if alert.acknowledged_at is not None:
        raise InvalidTransition("This alert was already acknowledged.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError("The note is too long.", {"note": Reason.TOO_LONG})
    alert.acknowledged_at = now
    alert.acknowledged_by_id = actor.id
    alert.acknowledgement_note = note
    session.flush()
    audit.record(
        session,
        actor,
        "alert.acknowledge",
        now=now,
        subject_type="alert",
        subject=str(alert.id),
        after={"note": note},
    )
    data = alert_data(alert) | {"acknowledged_by": actor.email, "note": note}
    webhooks.publish(session, "alert.acknowledged", data, now=now)
    return alert


# Rules 3 and 4: periodic checks --------------------------------------------------------------


def check_silent_kiosks(session: Session, *, now: datetime, silent_after: timedelta) -> list[Alert]:
    """Raise ``kiosk_silent`` for each active kiosk silent this long while its office is open;
    end the episode of each kiosk heard from again. Return the alerts newly raised."""
    from surveys.officers import is_office_open

    raised = []
    devices = session.execute(
        select(KioskDevice, Office)
        .join(KioskDevice.counter)
        .join(Office)
        .where(KioskDevice.revoked_at.is_(None), Office.is_active)
    ).all()
    for device, office in devices:
        key = f"device:{device.id}"
        heard_at = device.last_seen_at or device.created_at
        silent_for = now - heard_at
        if silent_for < silent_after:
            close_episode(session, office.id, "kiosk_silent", key, now)
            continue
        if not is_office_open(office, now):
            continue
        if not rule_settings(session, office, "kiosk_silent").is_enabled:
            continue
        alert = raise_alert(
            session,
            office,
            "kiosk_silent",
            now=now,
            figures={
                "device": device.name or f"#{device.id}",
                "silent_minutes": int(silent_for.total_seconds() // 60),
                "last_seen_at": heard_at.isoformat(timespec="seconds") + "Z",
            },
            episode_key=key,
            counter_id=device.counter_id,
            ends_on_acknowledgement=False,
        )
        if alert is not None:
            raised.append(alert)
    session.flush()
    return raised


def two_proportion_z(pos_a: int, n_a: int, pos_b: int, n_b: int) -> float:
    """Return the z statistic of (rate a − rate b) with the pooled standard error."""
    pooled = (pos_a + pos_b) / (n_a + n_b)
    spread = sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return 0.0
    return (pos_a / n_a - pos_b / n_b) / spread


#: Two-sided 95 %.
Z_95 = 1.959964


def check_falls(session: Session, *, now: datetime, min_n: int) -> list[Alert]:
    """Raise ``fall`` for each office whose recent days are significantly below the weeks
    before them (each side at least its minimum of ratings); end the episode where it
    recovered. Return the alerts newly raised.

    The windows and the minimum are each office's (``rule_settings``; by default the last 7
    days against the 8 weeks before, and ``min_n``). Offices that share windows are counted in
    one grouped query, so a city on the defaults costs one query whatever its size.
    """
    settings_of = rule_settings_of_offices(session, "fall")
    sharing: dict[tuple[int, int], list[int]] = {}
    for office_id, settings in settings_of.items():
        sharing.setdefault(settings.fall_windows, []).append(office_id)
    raised = []
    for windows, office_ids in sorted(sharing.items()):
        recent_days, baseline_weeks = windows
        counts = _fall_counts(
            session,
            now=now,
            recent=timedelta(days=recent_days),
            baseline=timedelta(weeks=baseline_weeks),
            # Most offices keep the defaults: count every office rather than list their ids.
            office_ids=None if windows == DEFAULTS.fall_windows else office_ids,
        )
        for office_id in office_ids:
            if office_id not in counts:
                continue  # no rating at all in either window: nothing to judge
            settings = settings_of[office_id]
            alert = _judge_fall(
                session,
                office_id,
                counts[office_id],
                settings,
                min_n=settings.fall_min_responses or min_n,
                now=now,
            )
            if alert is not None:
                raised.append(alert)
    return raised


def _fall_counts(
    session: Session,
    *,
    now: datetime,
    recent: timedelta,
    baseline: timedelta,
    office_ids: list[int] | None,
) -> dict[int, tuple[int, int, int, int]]:
    """Return office → (n recent, positive recent, n before, positive before)."""
    recent_start = now - recent
    is_recent = Response.submitted_at >= recent_start
    query = (
        select(
            Response.office_id,
            func.count(case((is_recent, 1))),
            func.count(case((is_recent & (Response.headline_polarity > 0), 1))),
            func.count(case((~is_recent, 1))),
            func.count(case((~is_recent & (Response.headline_polarity > 0), 1))),
        )
        .where(
            Response.submitted_at >= recent_start - baseline,
            Response.submitted_at < now,
            Response.is_counted,
        )
        .group_by(Response.office_id)
    )
    if office_ids is not None:
        query = query.where(Response.office_id.in_(office_ids))
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


def _judge_fall(
    session: Session,
    office_id: int,
    counts: tuple[int, int, int, int],
    settings: RuleSettings,
    *,
    min_n: int,
    now: datetime,
) -> Alert | None:
    n_recent, pos_recent, n_before, pos_before = counts
    falls = (
        n_recent >= min_n
        and n_before >= min_n
        and two_proportion_z(pos_recent, n_recent, pos_before, n_before) < -Z_95
    )
    if not falls:
        close_episode(session, office_id, "fall", "", now)
        return None
    if not settings.is_enabled:
        return None
    return raise_alert(
        session,
        session.get(Office, office_id),
        "fall",
        now=now,
        figures={
            "recent": {"n": n_recent, "positive": pos_recent, "days": settings.fall_recent_days},
            "before": {
                "n": n_before,
                "positive": pos_before,
                "weeks": settings.fall_baseline_weeks,
            },
            "recent_rate": round(pos_recent / n_recent, 4),
            "before_rate": round(pos_before / n_before, 4),
            "minimum": min_n,
        },
        ends_on_acknowledgement=False,
    )
