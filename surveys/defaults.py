"""The default surveys of the product brief, worded exactly, in Vietnamese and English."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys.db import utcnow
from surveys.models import Choice, Question, Survey

QUICK = "quick"
OFFICE_CULTURE = "office_culture"
SIPAS = "sipas"

COMMENT_MAX_LENGTH = 1000

THREE_LEVELS = [
    ("very_satisfied", "positive", "Rất hài lòng", "Very satisfied"),
    ("satisfied", "positive", "Hài lòng", "Satisfied"),
    ("not_satisfied", "negative", "Không hài lòng", "Not satisfied"),
]

FIVE_LEVELS = [
    ("very_satisfied", "positive", "Rất hài lòng", "Very satisfied"),
    ("satisfied", "positive", "Hài lòng", "Satisfied"),
    ("neutral", "neutral", "Bình thường", "Neutral"),
    ("not_satisfied", "negative", "Không hài lòng", "Not satisfied"),
    ("very_dissatisfied", "negative", "Rất không hài lòng", "Very dissatisfied"),
]

#: (key, Vietnamese, English, charged to the officer)
REASONS = [
    ("attitude", "Thái độ, cách giao tiếp của cán bộ", "The officer's attitude or manner", True),
    (
        "unclear_guidance",
        "Hướng dẫn chưa rõ, phải bổ sung hồ sơ nhiều lần",
        "Unclear guidance, had to come back several times",
        True,
    ),
    ("waiting_time", "Thời gian chờ đợi lâu", "Long waiting time", True),
    (
        "extra_papers",
        "Yêu cầu giấy tờ ngoài quy định",
        "Asked for papers beyond the rules",
        True,
    ),
    (
        "harassment",
        "Có biểu hiện gây phiền hà, nhũng nhiễu",
        "Harassment or improper demands",
        True,
    ),
    (
        "procedure",
        "Thủ tục hành chính rườm rà",
        "The procedure itself is too complicated",
        False,
    ),
    ("facilities", "Cơ sở vật chất", "Facilities", False),
    ("other", "Lý do khác", "Other", True),
]

OVERALL_TEXT = (
    "Ông/Bà đánh giá thế nào về việc tiếp nhận và giải quyết hồ sơ hôm nay?",
    "How satisfied are you with how your request was handled today?",
)
REASONS_TEXT = ("Điều gì khiến Ông/Bà chưa hài lòng?", "What was not right?")
COMMENT_TEXT = ("Ông/Bà có góp ý gì thêm không?", "Anything else you would like to tell us?")

CULTURE_VALUES = [
    (
        "discipline",
        "Cán bộ làm việc đúng giờ, đúng quy trình, đeo thẻ và trang phục đúng quy định",
        "The officer was on time, followed the procedure, wore the ID badge and uniform",
    ),
    (
        "responsibility",
        "Cán bộ giải quyết hồ sơ đúng hẹn, không đùn đẩy",
        "The officer handled your request on time, without passing you on",
    ),
    (
        "dedication",
        "Cán bộ hướng dẫn tận tình, đầy đủ, dễ hiểu",
        "The officer guided you attentively, completely and clearly",
    ),
    (
        "friendliness",
        "Cán bộ lịch sự, thân thiện, tôn trọng Ông/Bà",
        "The officer was polite, friendly and respectful",
    ),
]

SIPAS_ELEMENTS = [
    ("access", "Tiếp cận dịch vụ", "Access to the service"),
    ("procedure", "Thủ tục hành chính", "The administrative procedure"),
    ("officers", "Công chức giải quyết công việc", "The officers"),
    ("result", "Kết quả giải quyết thủ tục hành chính", "The result"),
    (
        "feedback_handling",
        "Việc tiếp nhận, xử lý ý kiến góp ý, phản ánh, kiến nghị",
        "The handling of feedback and complaints",
    ),
]

SIPAS_PROMPT = ("Ông/Bà đánh giá thế nào về: {}?", "How satisfied are you with: {}?")


def _scale(key, texts, levels, *, headline=False, required=False) -> Question:
    return Question(
        key=key,
        kind="scale",
        is_headline=headline,
        is_required=required or headline,
        text_vi=texts[0],
        text_en=texts[1],
        choices=[
            Choice(key=k, position=i, polarity=p, text_vi=vi, text_en=en)
            for i, (k, p, vi, en) in enumerate(levels)
        ],
    )


def _reasons() -> Question:
    return Question(
        key="reasons",
        kind="multi",
        is_headline=False,
        is_required=False,
        text_vi=REASONS_TEXT[0],
        text_en=REASONS_TEXT[1],
        show_if={"question": "overall", "polarity": "negative"},
        choices=[
            Choice(
                key=k,
                position=i,
                polarity="negative",
                text_vi=vi,
                text_en=en,
                is_charged_to_officer=charged,
            )
            for i, (k, vi, en, charged) in enumerate(REASONS)
        ],
    )


def _comment() -> Question:
    return Question(
        key="comment",
        kind="text",
        is_headline=False,
        is_required=False,
        text_vi=COMMENT_TEXT[0],
        text_en=COMMENT_TEXT[1],
        max_length=COMMENT_MAX_LENGTH,
    )


def build_quick() -> Survey:
    """Return the official 3-level survey, the kiosk default."""
    questions = [
        _scale("overall", OVERALL_TEXT, THREE_LEVELS, headline=True),
        _reasons(),
        _comment(),
    ]
    return _survey(QUICK, "Đánh giá nhanh", "Quick rating", questions)


def build_office_culture() -> Survey:
    """Return the 5-level survey on the Hanoi code-of-conduct values."""
    questions = [_scale("overall", OVERALL_TEXT, FIVE_LEVELS, headline=True)]
    questions += [_scale(k, (vi, en), FIVE_LEVELS) for k, vi, en in CULTURE_VALUES]
    questions += [_reasons(), _comment()]
    return _survey(OFFICE_CULTURE, "Văn hóa công sở", "Office culture", questions)


def build_sipas() -> Survey:
    """Return the SIPAS five-element survey; the officers element is not the headline."""
    questions = [_scale("overall", OVERALL_TEXT, FIVE_LEVELS, headline=True)]
    questions += [
        _scale(k, (SIPAS_PROMPT[0].format(vi), SIPAS_PROMPT[1].format(en)), FIVE_LEVELS)
        for k, vi, en in SIPAS_ELEMENTS
    ]
    questions += [_comment()]
    return _survey(SIPAS, "Chỉ số SIPAS", "SIPAS index", questions)


def _survey(key, name_vi, name_en, questions) -> Survey:
    for position, question in enumerate(questions):
        question.position = position
    return Survey(
        key=key,
        version=1,
        name_vi=name_vi,
        name_en=name_en,
        published_at=utcnow(),
        questions=questions,
    )


BUILDERS = {QUICK: build_quick, OFFICE_CULTURE: build_office_culture, SIPAS: build_sipas}


def ensure_default_surveys(session: Session) -> dict[str, Survey]:
    """Create the default surveys that do not exist yet; return the newest published version
    of each (an administrator's draft of the next one is not asked yet)."""
    found = {}
    for key, build in BUILDERS.items():
        survey = session.scalars(
            select(Survey)
            .where(Survey.key == key, Survey.published_at.is_not(None))
            .order_by(Survey.version.desc())
        ).first()
        if survey is None:
            survey = build()
            session.add(survey)
        found[key] = survey
    session.flush()
    return found
