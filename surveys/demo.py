"""A believable Hanoi demo city, and synthetic responses that vary like real ones."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from surveys import rollups
from surveys.accounts import create_user
from surveys.defaults import OFFICE_CULTURE, QUICK, ensure_default_surveys
from surveys.figures import ANSWERED
from surveys.models import Answer, Counter, Office, Officer, Response, Target, Unit
from surveys.models.org import DEFAULT_TIMEZONE
from surveys.models.survey import POLARITY_VALUE
from surveys.periods import local_today
from surveys.spec import SurveySpec, survey_spec
from surveys.tokens import CODE_ALPHABET, CODE_LENGTH

DEMO_PASSWORD = "hailong-demo"
DEMO_USERS = [
    # (email, role, scope, name)
    ("admin@hailong.demo", "admin", None, "Quản trị hệ thống"),
    ("thanhpho@hailong.demo", "manager", "HN", "Văn phòng UBND Thành phố"),
    ("hoankiem@hailong.demo", "manager", "HK", "Lãnh đạo UBND quận Hoàn Kiếm"),
    ("xem@hailong.demo", "viewer", "HK-1C", "Cán bộ theo dõi (chỉ xem)"),
]

#: (code, name, parent code)
UNITS = [
    ("HN", "Thành phố Hà Nội", None),
    ("STP", "Sở Tư pháp", "HN"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "HN"),
    ("HK", "UBND quận Hoàn Kiếm", "HN"),
    ("BD", "UBND quận Ba Đình", "HN"),
    ("CG", "UBND quận Cầu Giấy", "HN"),
]

#: (code, name, unit, address, counters, base satisfaction)
OFFICES = [
    (
        "HCC",
        "Trung tâm Phục vụ hành chính công Thành phố",
        "HN",
        "258 Võ Chí Công, Tây Hồ",
        6,
        0.90,
    ),
    ("STP-1C", "Bộ phận một cửa Sở Tư pháp", "STP", "1B Trần Phú, Ba Đình", 3, 0.86),
    ("KHDT-1C", "Bộ phận một cửa Sở Kế hoạch và Đầu tư", "SKHDT", "16 Cát Linh, Đống Đa", 4, 0.82),
    ("HK-1C", "Bộ phận một cửa quận Hoàn Kiếm", "HK", "126 Hàng Trống, Hoàn Kiếm", 4, 0.88),
    ("HK-HTR", "UBND phường Hàng Trống", "HK", "6 Lê Thái Tổ, Hoàn Kiếm", 2, 0.93),
    ("HK-TT", "UBND phường Tràng Tiền", "HK", "16 Lý Thái Tổ, Hoàn Kiếm", 2, 0.79),
    ("BD-1C", "Bộ phận một cửa quận Ba Đình", "BD", "25 Liễu Giai, Ba Đình", 4, 0.84),
    ("BD-KM", "UBND phường Kim Mã", "BD", "102 Kim Mã, Ba Đình", 2, 0.74),
    ("BD-DB", "UBND phường Điện Biên", "BD", "4 Trần Phú, Ba Đình", 2, 0.89),
    ("CG-1C", "Bộ phận một cửa quận Cầu Giấy", "CG", "36 Cầu Giấy, Cầu Giấy", 4, 0.87),
    ("CG-DV", "UBND phường Dịch Vọng", "CG", "62 Trần Thái Tông, Cầu Giấy", 2, 0.91),
    ("CG-ND", "UBND phường Nghĩa Đô", "CG", "1 Hoàng Quốc Việt, Cầu Giấy", 2, 0.68),
]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý"]
#: Middle and given names by the gender they are usual for, so that a generated name never
#: pairs a woman's middle name with a man's given name ("Hoàng Thị Sơn" reads as synthetic).
NAMES = {
    "female": (
        "Thị Thị Thu Ngọc Phương Thanh Hồng Bích Kim".split(),
        (
            "Lan Mai Hương Linh Trang Yến Thảo Huyền Ngân Vân Hà Hạnh Hằng Nga Nhung Loan Hoa Thủy"
        ).split(),
    ),
    "male": (
        "Văn Văn Minh Đức Quang Hữu Mạnh Xuân Tiến Thanh".split(),
        (
            "Hùng Tuấn Nam Dũng Sơn Long Phong Quân Hải Tùng Thắng Cường Hiếu Trung Khoa Bình Thành"
            " Việt"
        ).split(),
    ),
}


def officer_name(rng: random.Random) -> str:
    """Return a plausible Vietnamese full name: family, then a middle and a given name that
    belong to the same gender."""
    middle, given = NAMES[rng.choice(("female", "male"))]
    return f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}"


#: Names as a Hanoi office's staff list reads them (the middle name fits the given name).
EXAMPLE_OFFICERS = [
    "Nguyễn Thị Lan",
    "Trần Minh Tuấn",
    "Lê Thu Hà",
    "Phạm Quang Dũng",
    "Hoàng Thị Hương",
    "Vũ Đức Long",
    "Đặng Thu Trang",
    "Bùi Văn Phong",
    "Ngô Thị Huyền",
    "Dương Văn Hải",
    "Lý Phương Thảo",
    "Đỗ Thanh Tùng",
    "Nguyễn Ngọc Linh",
    "Trần Văn Hùng",
    "Lê Thị Mai",
    "Phạm Đức Nam",
    "Hoàng Thu Ngân",
    "Vũ Minh Khánh",
    "Đặng Thị Yến",
    "Bùi Quang Quân",
    "Ngô Thu Vân",
    "Dương Minh Đức",
    "Lý Thị Hạnh",
    "Đỗ Văn Sơn",
]
TITLES = [
    "Chuyên viên",
    "Chuyên viên chính",
    "Cán bộ một cửa",
    "Công chức tư pháp - hộ tịch",
    "Công chức địa chính",
]

COMMENTS_POSITIVE = [
    "Cán bộ hướng dẫn rất nhiệt tình, cảm ơn!",
    "Làm thủ tục nhanh, không phải chờ lâu.",
    "Cán bộ lịch sự, chu đáo.",
    "Rất hài lòng với cách phục vụ.",
]
COMMENTS_NEGATIVE = [
    "Phải chờ hơn một tiếng mới đến lượt.",
    "Hướng dẫn chưa rõ, tôi phải quay lại bổ sung giấy tờ hai lần.",
    "Phòng chờ nóng, thiếu ghế ngồi.",
    "Cán bộ trả lời cộc lốc.",
    "Thủ tục quá nhiều bước.",
]

#: Relative traffic by local hour; the office closes for lunch.
HOUR_WEIGHTS = {7: 2, 8: 9, 9: 10, 10: 9, 11: 5, 13: 4, 14: 8, 15: 8, 16: 6}
#: Monday crowds and Friday afternoons are when things go wrong.
WEEKDAY_TRAFFIC = {0: 1.4, 1: 1.1, 2: 1.0, 3: 1.0, 4: 1.1, 5: 0.35, 6: 0.0}
WEEKDAY_PENALTY = {0: 0.05, 1: 0.0, 2: 0.0, 3: 0.01, 4: 0.03, 5: -0.02, 6: 0.0}
HOUR_PENALTY = {7: 0.0, 8: 0.0, 9: 0.02, 10: 0.03, 11: 0.04, 13: 0.0, 14: 0.01, 15: 0.03, 16: 0.07}


@dataclass
class DemoCity:
    created: bool
    units: int
    offices: int
    counters: int
    officers: int


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def seed_city(session: Session, *, seed: int = 1) -> DemoCity:
    """Create the demo city unless it exists; never touch existing data."""
    if session.scalar(select(Unit.id).where(Unit.code == "HN")) is not None:
        return DemoCity(False, *_sizes(session))
    rng = random.Random(seed)
    surveys = ensure_default_surveys(session)
    units: dict[str, Unit] = {}
    for code, name, parent in UNITS:
        unit = Unit(code=code, name=name)
        session.add(unit)
        session.flush()
        unit.place_under(units.get(parent))
        units[code] = unit
    used_codes: set[str] = set()

    def target(**kwargs) -> Target:
        code = _code(rng)
        while code in used_codes:
            code = _code(rng)
        used_codes.add(code)
        return Target(code=code, **kwargs)

    for code, name, unit, address, n_counters, _ in OFFICES:
        office = Office(code=code, name=name, unit=units[unit], address=address)
        session.add(office)
        session.flush()
        session.add(target(kind="office", office_id=office.id, survey=surveys[QUICK]))
        for i in range(1, n_counters + 1):
            counter = Counter(code=f"{code}-Q{i}", name=f"Quầy số {i}", office=office)
            session.add(counter)
            session.flush()
            session.add(
                target(
                    kind="counter",
                    office_id=office.id,
                    counter_id=counter.id,
                    survey=surveys[QUICK],
                )
            )
            for j in range(rng.choice([1, 2, 2, 3])):
                name = officer_name(rng)
                officer = Officer(
                    code=f"{code}-Q{i}-{j + 1}".replace("-", ""),
                    name=name,
                    title=rng.choice(TITLES),
                    office=office,
                )
                session.add(officer)
                session.flush()
                session.add(
                    target(
                        kind="officer",
                        office_id=office.id,
                        counter_id=counter.id,
                        officer_id=officer.id,
                        survey=surveys[OFFICE_CULTURE],
                    )
                )
    for email, role, scope, name in DEMO_USERS:
        create_user(session, email, DEMO_PASSWORD, role, scope_code=scope, name=name)
    session.flush()
    return DemoCity(True, *_sizes(session))


def _sizes(session: Session) -> tuple[int, int, int, int]:
    return tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Unit, Office, Counter, Officer)
    )


def seed_responses(
    session: Session, count: int, *, days: int, now: datetime, seed: int = 1, batch_size: int = 5000
) -> int:
    """Insert ``count`` synthetic responses over the last ``days`` days, in bulk."""
    if count <= 0:
        return 0
    rng = random.Random(seed * 7919 + count)
    targets = session.scalars(select(Target).where(Target.kind != "office")).all()
    offices = {o.id: o for o in session.scalars(select(Office))}
    base = {code: p for code, *_, p in OFFICES}
    specs: dict[int, SurveySpec] = {}
    # A few officers are notably better or worse than their office.
    officer_effect = {t.officer_id: rng.gauss(0, 0.05) for t in targets if t.officer_id}
    weights = [(3 if t.kind == "counter" else 1) for t in targets]
    slots = _time_slots(now, days, rng)
    responses, answers = [], []
    tally = rollups.Tally()
    inserted = 0
    for chosen in rng.choices(targets, weights=weights, k=count):
        office = offices[chosen.office_id]
        spec = specs.get(chosen.survey_id) or specs.setdefault(
            chosen.survey_id, survey_spec(session, chosen.survey_id)
        )
        local = rng.choice(slots)
        p = base.get(office.code, 0.85) + officer_effect.get(chosen.officer_id, 0.0)
        p -= WEEKDAY_PENALTY[local.weekday()] + HOUR_PENALTY.get(local.hour, 0.0)
        response_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        given = _answers(spec, rng, p)
        headline = spec.headline.by_key[given[spec.headline.key]]
        submitted = (
            local.replace(tzinfo=ZoneInfo(office.timezone)).astimezone(UTC).replace(tzinfo=None)
        )
        channel = "kiosk" if chosen.kind == "counter" and rng.random() < 0.8 else "qr"
        responses.append(
            {
                "id": response_id,
                "target_id": chosen.id,
                "survey_id": spec.id,
                "office_id": chosen.office_id,
                "counter_id": chosen.counter_id,
                "officer_id": chosen.officer_id,
                "device_id": None,
                "channel": channel,
                "locale": "en" if rng.random() < 0.03 else "vi",
                "submitted_at": submitted,
                "received_at": submitted + timedelta(seconds=rng.randint(0, 30)),
                "headline_polarity": POLARITY_VALUE[headline.polarity],
                "is_verified": False,
                "body_hash": hashlib.sha256(response_id.bytes).hexdigest(),
            }
        )
        pairs: list[tuple[int, int]] = []
        for key, value in given.items():
            question = spec.question(key)
            if question.kind in ("text", "multi"):
                pairs.append((question.id, ANSWERED))
            if question.kind == "text":
                answers.append(
                    {
                        "response_id": response_id,
                        "question_id": question.id,
                        "choice_id": None,
                        "text": value,
                    }
                )
                continue
            for choice_key in value if isinstance(value, list) else [value]:
                pairs.append((question.id, question.by_key[choice_key].id))
                answers.append(
                    {
                        "response_id": response_id,
                        "question_id": question.id,
                        "choice_id": question.by_key[choice_key].id,
                        "text": None,
                    }
                )
        tally.add(
            rollups.Counted(
                chosen.office_id,
                chosen.counter_id,
                chosen.officer_id,
                channel,
                local,
                POLARITY_VALUE[headline.polarity],
                tuple(pairs),
            )
        )
        if len(responses) >= batch_size:
            inserted += _flush(session, responses, answers, tally)
    inserted += _flush(session, responses, answers, tally)
    return inserted


def _flush(session: Session, responses: list, answers: list, tally: rollups.Tally) -> int:
    n = len(responses)
    if responses:
        # render_nulls keeps rows with and without an officer (or a text) in one batch;
        # without it SQLAlchemy splits the batch at every change of missing columns.
        bulk = {"render_nulls": True}
        session.execute(insert(Response).execution_options(**bulk), responses)
        session.execute(insert(Answer).execution_options(**bulk), answers)
        # The figures read the rollups: the seeded responses count there as submitted ones do.
        tally.write(session)
    responses.clear()
    answers.clear()
    return n


def _time_slots(now: datetime, days: int, rng: random.Random) -> list[datetime]:
    """Return local visit times, repeated in proportion to how busy each weekday and hour is."""
    today = local_today(DEFAULT_TIMEZONE, now)
    slots = []
    for offset in range(days):
        day: date = today - timedelta(days=offset + 1)
        traffic = WEEKDAY_TRAFFIC[day.weekday()]
        for hour, weight in HOUR_WEIGHTS.items():
            if day.weekday() == 5 and hour >= 12:
                continue
            for _ in range(round(weight * traffic)):
                slots.append(
                    datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))
                )
    return slots


def _answers(spec: SurveySpec, rng: random.Random, p: float) -> dict:
    """Return one citizen's answers: satisfied with probability p, the rest consistent with it."""
    given: dict = {}
    headline = spec.headline
    levels = headline.choices
    positive = [c for c in levels if c.polarity == "positive"]
    negative = [c for c in levels if c.polarity == "negative"]
    neutral = [c for c in levels if c.polarity == "neutral"]
    roll = rng.random()
    if roll < p:
        choice = positive[0] if rng.random() < 0.55 else positive[-1]
    elif neutral and roll < p + (1 - p) * 0.4:
        choice = neutral[0]
    else:
        choice = negative[0] if rng.random() < 0.7 else negative[-1]
    given[headline.key] = choice.key
    for question in spec.questions:
        if question.is_headline or not spec.is_shown(question, given):
            continue
        if question.kind == "scale":
            # The values track the overall answer, one level either way now and then.
            position = min(
                max(choice.position + rng.choice([-1, 0, 0, 0, 1]), 0), len(question.choices) - 1
            )
            given[question.key] = question.choices[position].key
        elif question.kind == "multi":
            weights = [5, 4, 6, 2, 1, 3, 2, 1][: len(question.choices)]
            picked = {
                c.key
                for c in rng.choices(question.choices, weights=weights, k=rng.choice([1, 1, 2]))
            }
            given[question.key] = sorted(picked)
        elif question.kind == "text" and rng.random() < 0.08:
            pool = COMMENTS_NEGATIVE if choice.polarity == "negative" else COMMENTS_POSITIVE
            given[question.key] = rng.choice(pool)
    return given


def showcase_codes(session: Session) -> tuple[str, str]:
    """Return the counter to pair and the phone code printed by make run (both in Hoàn Kiếm)."""
    counter = session.scalar(select(Counter).where(Counter.code == "HK-1C-Q1"))
    office_target = session.scalar(
        select(Target).where(Target.kind == "office", Target.office_id == counter.office_id)
    )
    return counter.code, office_target.code
