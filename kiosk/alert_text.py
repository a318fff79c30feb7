"""What an alert says, in the reader's language: its rule's name and the figures behind it."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime, format_percent, gettext
from flask_babel import lazy_gettext as _l

from surveys.models import Alert

RULE_NAMES = {
    "harassment": _l("Harassment or improper demands reported"),
    "burst": _l("A burst of unhappy ratings"),
    "fall": _l("A significant fall in satisfaction"),
    "kiosk_silent": _l("A kiosk is silent during opening hours"),
    "case_overdue": _l("A call-back is overdue"),
}


def rule_name(rule: str) -> str:
    return str(RULE_NAMES.get(rule, rule))


def describe(alert: Alert) -> str:
    """Return one sentence with the figures behind the alert."""
    f = alert.figures or {}
    if alert.rule == "harassment":
        text = gettext("A citizen reported harassment or improper demands.")
    elif alert.rule == "burst":
        text = gettext(
            "%(negative)s of the %(total)s ratings of the last %(minutes)s minutes were unhappy "
            "(the rule: at least %(threshold)s, and at least half).",
            negative=f.get("negative"),
            total=f.get("total"),
            minutes=f.get("minutes"),
            threshold=f.get("threshold"),
        )
    elif alert.rule == "fall":
        recent, before = f.get("recent", {}), f.get("before", {})
        text = gettext(
            "Satisfaction of the last %(days)s days: %(recent)s of %(n_recent)s ratings, against "
            "%(before)s of %(n_before)s in the %(weeks)s weeks before (a significant fall at "
            "95%%).",
            days=recent.get("days", 7),
            recent=format_percent(f.get("recent_rate", 0)),
            n_recent=recent.get("n"),
            before=format_percent(f.get("before_rate", 0)),
            n_before=before.get("n"),
            weeks=before.get("weeks", 8),
        )
    elif alert.rule == "kiosk_silent":
        text = gettext(
            "The kiosk %(device)s has sent nothing for %(minutes)s minutes while the office "
            "is open.",
            device=f.get("device"),
            minutes=f.get("silent_minutes"),
        )
    elif alert.rule == "case_overdue":
        text = gettext(
            "Call-back case %(case)s was due %(due)s and is not resolved.",
            case=f.get("case"),
            due=format_datetime(datetime.fromisoformat(f["due_at"].rstrip("Z")), "short")
            if f.get("due_at")
            else "?",
        )
    else:
        text = ""
    count = f.get("ratings_in_episode", 1)
    if alert.rule in ("harassment", "burst") and count > 1:
        text += " " + gettext("%(num)s ratings so far in this episode.", num=count)
    return text
