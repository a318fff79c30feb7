"""Every JSON body of the API, declared once with pydantic.

The same classes validate what comes in (``parse``) and describe it in the OpenAPI document
(kiosk/views/api/openapi.py), so the two cannot drift apart. Response bodies are declared here
too and checked against the real answers by the Schemathesis run in the test suite.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    model_validator,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from surveys.errors import Reason, ValidationError
from surveys.tokens import normalise_code

M = TypeVar("M", bound=BaseModel)
#: The largest id a client may send back (the largest integer JSON numbers keep exactly).
MAX_ID = 2**53 - 1
#: How a rule over several fields names the ones that are missing (see ``parse``).
MISSING = "missing:"


def _text_only(value: Any) -> Any:
    """Refuse numbers for a date-time: only the ISO 8601 text form is accepted."""
    if not isinstance(value, str):
        raise ValueError("a date-time is written as ISO 8601 text")
    return value


def _as_stored_utc(value: datetime) -> datetime:
    """Return the moment as naive UTC (how every time is stored); refuse one out of range."""
    try:
        return value.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        raise ValueError("out of range") from None


def _whole_number(value: Any) -> Any:
    """Take 36 and 36.0 (both integers to JSON Schema), never "36", true or 36.5."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError("int_from_float", "a whole number")
        return int(value)
    return value


#: ISO 8601 with a time zone, stored as naive UTC.
Moment = Annotated[AwareDatetime, BeforeValidator(_text_only), AfterValidator(_as_stored_utc)]
#: Text a database can store: no NUL (kiosk/boundary.py refuses lone surrogates as well).
Text = Annotated[StrictStr, Field(pattern=r"^[^\x00]*$")]
#: Text with something in it besides spaces (a code, a name, a PIN).
Filled = Annotated[StrictStr, Field(pattern=r"^[^\x00]*[^\s\x00][^\x00]*$")]
Code = Annotated[Filled, Field(max_length=64)]
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class Body(BaseModel):
    """A request body: unknown fields are refused, strings are never coerced."""

    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


# Requests ------------------------------------------------------------------------------------


class CallbackBody(Body):
    """A call-back request after an unhappy rating (POST /responses/ID/callback)."""

    phone: Annotated[StrictStr, Field(max_length=32, pattern=r"^[^\x00]*$")] | None = None
    email: Annotated[StrictStr, Field(max_length=254, pattern=r"^[^\x00]*$")] | None = None
    consent: StrictBool = Field(description="The citizen ticked the consent sentence; must be true")


class ResponseBody(Body):
    """One citizen's response (POST /responses)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["target"]}, {"required": ["ticket"]}]}
    )

    id: uuid.UUID = Field(description="Made by the client; the idempotency key")
    # Left out rather than null: one of the two is required.
    target: Code = Field(None, description="Public survey code; optional with a ticket")
    ticket: Code = Field(None, description="A one-time ticket code: the response is verified")
    answers: dict[Text, Text | list[Text]] = Field(
        description="Question key → choice key, list of choice keys, or text",
        json_schema_extra={"additionalProperties": False},
    )
    comment: Annotated[Text, Field(max_length=1000)] | None = None
    locale: Literal["vi", "en"] = "vi"
    submitted_at: Moment | None = Field(
        None, description="When the citizen answered, with a zone; kiosks may send it late"
    )
    callback: CallbackBody | None = Field(
        None,
        description="After an unhappy rating: the citizen asks to be contacted again (as "
        "POST /responses/ID/callback). The rating is stored even when this is refused.",
    )

    @model_validator(mode="after")
    def _target_or_ticket(self) -> ResponseBody:
        if self.target is None and self.ticket is None:
            raise ValueError(f"{MISSING}target")
        return self

    def target_code(self) -> str:
        return normalise_code(self.target) if self.target else ""

    def ticket_code(self) -> str | None:
        return normalise_code(self.ticket) if self.ticket is not None else None


class MintBody(Body):
    """Tickets for an office (POST /tickets)."""

    office: Code
    counter: Code | None = None
    officer: Code | None = None
    service: Annotated[Text, Field(max_length=200)] | None = None
    count: WholeNumber = Field(1, ge=1, description="At most TICKET_MAX_PER_REQUEST")


#: A code of the organisation, as a city writes it (normalised to upper case).
OrgCode = Annotated[
    Text, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
Name = Annotated[Filled, Field(max_length=200)]
Address = Annotated[Text, Field(max_length=300)]
Timezone = Annotated[
    Text,
    Field(
        description="An IANA time zone name",
        json_schema_extra={"enum": sorted(available_timezones())},
    ),
]
#: A new office may leave its zone empty: it then gets the default (as a row of the import file).
NewTimezone = Annotated[
    Text,
    Field(
        description="An IANA time zone name; empty: Asia/Ho_Chi_Minh",
        json_schema_extra={"enum": ["", *sorted(available_timezones())]},
    ),
]


class UnitBody(Body):
    """A new unit (POST /units): the same fields as a row of the import file."""

    code: OrgCode
    name: Name
    parent: OrgCode | None = Field(None, description="The parent unit's code; null: top level")


class UnitPatch(Body):
    name: Name = None
    parent: OrgCode | None = Field(None, description="The new parent unit; null: top level")
    active: StrictBool = None


class OfficeBody(Body):
    code: OrgCode
    name: Name
    parent: OrgCode = Field(description="The unit's code")
    timezone: NewTimezone = "Asia/Ho_Chi_Minh"
    address: Address = ""


class OfficePatch(Body):
    name: Name = None
    parent: OrgCode = None
    timezone: Timezone = None
    address: Address = None
    active: StrictBool = None


class CounterBody(Body):
    code: OrgCode
    name: Name


class CounterPatch(Body):
    name: Name = None
    parent: OrgCode = Field(None, description="Another office in scope")
    active: StrictBool = None


class OfficerBody(Body):
    code: OrgCode
    name: Name
    title: Annotated[Text, Field(max_length=200)] = ""
    counters: list[OrgCode] = Field(default_factory=list, description="Usually served")


class OfficerPatch(Body):
    name: Name = None
    title: Annotated[Text, Field(max_length=200)] = None
    parent: OrgCode = Field(None, description="Another office in scope")
    counters: list[OrgCode] = None
    active: StrictBool = None


class UnitOut(BaseModel):
    code: str
    name: str
    parent: str | None
    active: bool


class PlaceOut(BaseModel):
    """A counter or an officer, with the public survey code in use (null when none)."""

    code: str
    name: str
    parent: str
    target: str | None
    active: bool


class OfficerDetailOut(PlaceOut):
    title: str
    counters: list[str]


class OfficeDetailOut(BaseModel):
    code: str
    name: str
    parent: str
    unit: str
    timezone: str
    address: str
    hours: list[list[str] | None]
    target: str | None
    active: bool
    counters: list[PlaceOut]
    officers: list[OfficerDetailOut]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    subject_type: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next: str | None = Field(description="URL of the next (older) page, or null")


class AuditQuery(Body):
    from_: date | None = Field(None, alias="from", description="First day (UTC), YYYY-MM-DD")
    to: date | None = Field(None, description="Last day (UTC), YYYY-MM-DD")
    actor: Text | None = Field(None, description="The actor's email")
    action: Text | None = Field(None, description="An action, or a prefix ending in '.'")
    before: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only entries older than this id (paging)"
    )


class HeartbeatBody(Body):
    """A kiosk's health report (POST /kiosk/heartbeat)."""

    app_version: Filled = Field(description="Cut to 32 characters")
    queue_depth: WholeNumber = Field(
        ge=0, le=1_000_000, description="Ratings waiting on the tablet"
    )
    oldest_queued_at: Moment | None = Field(
        None, description="submitted_at of the oldest waiting rating"
    )
    last_error: Text | None = Field(None, description="Cut to 500 characters")


class SignInBody(Body):
    """An officer's sign-in on a kiosk: code and PIN, or the badge's secret."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["officer", "pin"]}, {"required": ["badge"]}]}
    )

    # Left out rather than null: code and PIN, or the badge.
    officer: Code = None
    pin: Annotated[Filled, Field(max_length=64)] = None
    badge: Annotated[Filled, Field(max_length=200)] = None

    @model_validator(mode="after")
    def _code_and_pin_or_badge(self) -> SignInBody:
        if self.badge is None and (self.officer is None or self.pin is None):
            missing = [name for name in ("officer", "pin") if getattr(self, name) is None]
            raise ValueError(MISSING + ",".join(missing))
        return self


class ChoosePinBody(Body):
    """An officer whose PIN was reset chooses their own, with the setup code they were given."""

    officer: Code
    setup_code: Annotated[Filled, Field(max_length=16)]
    pin: Annotated[Filled, Field(max_length=16)] = Field(description="6 to 8 digits")
    pin_again: Annotated[Filled, Field(max_length=16)]


class DateRangeQuery(Body):
    """Inclusive local calendar days; a range whose start is after its end is empty."""

    from_: date | None = Field(None, alias="from", description="Default: 29 days before 'to'")
    to: date | None = Field(None, description="Default: today in the office's time zone")


class SummaryQuery(DateRangeQuery):
    interval: Literal["day", "week", "month"] | None = Field(
        None, description="Of the trend; default: days up to 62 days, weeks up to 550, months"
    )


class ExportQuery(DateRangeQuery):
    codes: Literal["0", "1"] | None = Field(
        None, description="1: machine keys (column names, choice keys) instead of words"
    )


class RankingsQuery(DateRangeQuery):
    unit: str | None = Field(None, description="Only the offices of this unit's subtree")


class CommentsQuery(DateRangeQuery):
    office: str | None = Field(None, description="Only this office's comments")
    page: int = Field(1, ge=1, le=10_000)


class RankingOut(BaseModel):
    office: str
    name: str
    unit: str
    n: int
    rate: float | None = Field(description="Null below MIN_RESPONSES")
    ci_low: float | None
    ci_high: float | None
    shrunken_rate: float | None = Field(description="Null without any response")
    rank: int | None
    overlaps_next: bool = Field(description="Its 95 % interval overlaps the next office's")


class CommentOut(BaseModel):
    id: str
    office: str
    counter: str | None
    officer: str | None
    submitted_at: str = Field(description="Local time of the office, ISO 8601 with its offset")
    channel: Literal["kiosk", "qr", "ticket"]
    rating: str = Field(description="The headline answer's choice key")
    polarity: int = Field(ge=-1, le=1)
    reasons: list[str]
    text: str = Field(description="Phone, e-mail and ID numbers masked for non-administrators")
    handled: bool
    note: str


class CommentsOut(BaseModel):
    comments: list[CommentOut]
    page: int
    next_page: int | None


# Responses -----------------------------------------------------------------------------------


WebhookEvent = Literal[
    "alert.raised", "alert.acknowledged", "case.opened", "case.updated", "response.created"
]


class WebhookBody(Body):
    """A webhook (POST /webhooks): where to send which events, and the key that signs them."""

    url: Annotated[StrictStr, Field(min_length=1, max_length=500, pattern=r"^https?://[^\x00]+$")]
    events: list[WebhookEvent] = Field(min_length=1)
    secret: Annotated[StrictStr, Field(min_length=16, max_length=200, pattern=r"^[^\x00]*$")] = (
        Field(description="At least 16 characters; the HMAC-SHA256 key of the signatures")
    )
    include_comments: StrictBool = Field(
        False, description="response.created carries the citizen's comment only when true"
    )


class CreatedId(BaseModel):
    id: int


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    active: bool
    include_comments: bool
    created_at: datetime


class DeliveryOut(BaseModel):
    id: int = Field(description="This delivery")
    event_id: str = Field(description="The event's id, the same in every copy and retry")
    event: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="When pending: the next try")
    sent_at: datetime | None
    last_status: int | None = Field(description="The receiver's last HTTP status")
    last_error: str | None


class PublicMonthOut(BaseModel):
    month: str = Field(description="YYYY-MM, in the office's time zone")
    n: int
    rate: float | None = Field(description="Null below MIN_RESPONSES")
    ci_low: float | None
    ci_high: float | None


class BothLanguages(BaseModel):
    vi: str
    en: str


class PublicReasonOut(BaseModel):
    key: str
    text: BothLanguages
    count: int


class PublicActionOut(BaseModel):
    said: str
    done: str
    published_at: datetime


class PublicOfficeOut(BaseModel):
    office: dict[str, str] = Field(description="code, name, unit")
    actions: list[PublicActionOut] = Field(description="What the office did; newest first")
    min_responses: int
    months: list[PublicMonthOut] = Field(description="The last 12 months, oldest first")
    reasons: list[PublicReasonOut] = Field(description="Empty below MIN_RESPONSES")
    reasons_n: int


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] = Field(description="Field → machine reason (surveys/errors.py)")


class ErrorBody(BaseModel):
    error: ErrorDetail


class CallbackOutcome(BaseModel):
    """The call-back sent inside a rating: the case opened, or why not (the rating stands)."""

    id: int | None = Field(None, description="The case opened")
    error: ErrorDetail | None = None


class Created(BaseModel):
    id: uuid.UUID
    callback: CallbackOutcome | None = Field(None, description="Only when a callback was sent")


class Text(BaseModel):
    vi: str
    en: str


class ChoiceOut(BaseModel):
    key: str
    polarity: Literal["positive", "neutral", "negative"]
    text: Text


class ShowIf(BaseModel):
    question: str
    polarity: str


class QuestionOut(BaseModel):
    key: str
    kind: Literal["scale", "choice", "multi", "text"]
    headline: bool
    required: bool
    text: Text
    choices: list[ChoiceOut] = Field(description="Best first")
    max_length: int | None
    show_if: ShowIf | None


class SurveyVersion(BaseModel):
    key: str
    version: int


class SurveyOut(BaseModel):
    target: str
    label: str
    survey: SurveyVersion
    questions: list[QuestionOut]


class CounterOut(BaseModel):
    code: str
    name: str
    target: str | None


class OfficeOut(BaseModel):
    code: str
    name: str
    unit: str
    timezone: str
    target: str | None
    counters: list[CounterOut]


class RateOut(BaseModel):
    """Figures are null below the minimum number of responses."""

    n: int
    rate: float | None
    ci_low: float | None = Field(description="95 % Wilson interval")
    ci_high: float | None


class VersionFiguresOut(RateOut):
    """One question of one survey version, on its own scale."""

    survey: str
    version: int
    levels: int = Field(description="Choices of the question (a scale's levels)")
    mean_score: float | None = Field(description="0–100, best choice 100; null below minimum")
    counts: dict[str, int] = Field(description="Choice key → answers, best choice first")


class QuestionFigures(RateOut):
    """The rate is pooled across survey versions (it is comparable); the mean score and the
    counts are given only when every answer came from one version, else null and {} (see
    ``versions``): answers on different scales are never added together."""

    mean_score: float | None
    counts: dict[str, int]
    versions: list[VersionFiguresOut]


class ReasonOut(BaseModel):
    n: int
    charged_to_officer: bool = Field(
        description="False for reasons about the process or premises, never held against "
        "the officer"
    )


class PlaceRateOut(RateOut):
    """A counter's or officer's rate: null below MIN_RESPONSES (counters) or
    MIN_OFFICER_RESPONSES (officers)."""

    code: str
    name: str


class TicketFiguresOut(BaseModel):
    issued: int
    responded: int
    response_rate: float | None


class TrendPointOut(RateOut):
    period: date = Field(
        description="First day of the day, ISO week (Monday) or month, clipped to the range"
    )


class ChangeOut(BaseModel):
    difference: float | None = Field(description="Rate minus the previous period's rate")
    z: float | None = Field(description="Two-proportion z statistic (pooled standard error)")
    significant: bool = Field(description="|z| > 1.96: a real change at 95 %")


class HeatCellOut(BaseModel):
    n: int
    rate: float | None


class ChannelsOut(BaseModel):
    kiosk: int
    qr: int
    ticket: int


class SummaryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    office: str
    from_: date = Field(alias="from")
    to: date
    interval: Literal["day", "week", "month"]
    responses: int
    satisfaction: RateOut
    previous: RateOut = Field(description="The same number of days just before 'from'")
    change: ChangeOut
    channels: ChannelsOut
    questions: dict[str, QuestionFigures]
    reasons: dict[str, ReasonOut]
    trend: list[TrendPointOut]
    counters: list[PlaceRateOut]
    officers: list[PlaceRateOut]
    heatmap: list[list[HeatCellOut]] = Field(
        description="7 weekdays (Monday first) × 24 hours in the office's time zone",
        min_length=7,
        max_length=7,
    )
    verified: int
    tickets: TicketFiguresOut


class TicketOut(BaseModel):
    code: str
    url: str
    expires_at: datetime


class MintedOut(BaseModel):
    tickets: list[TicketOut]


class Named(BaseModel):
    code: str
    name: str


class OfficeOfKiosk(Named):
    closes_at: str = Field(description="Local time, HH:MM, of its next closing; shifts end then")


class KioskStateOut(BaseModel):
    status: Literal["ok"]
    server_time: datetime = Field(description="UTC, with Z")
    officer: Named | None = Field(description="Signed in on this kiosk now, or null")
    counter: Named
    office: OfficeOfKiosk


class OfficerOut(BaseModel):
    officer: Named | None


# Parsing -------------------------------------------------------------------------------------

#: pydantic's error types, as the machine reasons every other error uses.
_REASONS = {
    "missing": Reason.REQUIRED,
    "extra_forbidden": Reason.UNKNOWN_FIELD,
    "string_type": Reason.NOT_TEXT,
    "string_too_short": Reason.REQUIRED,
    "string_too_long": Reason.TOO_LONG,
    "string_pattern_mismatch": Reason.INVALID_TEXT,
    "list_type": Reason.NOT_A_LIST,
    "dict_type": Reason.NOT_AN_OBJECT,
    "model_type": Reason.NOT_AN_OBJECT,
    "model_attributes_type": Reason.NOT_AN_OBJECT,
    "uuid_type": Reason.NOT_UUID,
    "uuid_parsing": Reason.NOT_UUID,
    "int_type": Reason.NOT_AN_INTEGER,
    "int_parsing": Reason.NOT_AN_INTEGER,
    "int_from_float": Reason.NOT_AN_INTEGER,
    "greater_than_equal": Reason.OUT_OF_RANGE,
    "less_than_equal": Reason.OUT_OF_RANGE,
    "date_type": Reason.NOT_A_DATE,
    "date_parsing": Reason.NOT_A_DATE,
    "date_from_datetime_parsing": Reason.NOT_A_DATE,
    "date_from_datetime_inexact": Reason.NOT_A_DATE,
    "datetime_type": Reason.NOT_A_DATETIME,
    "datetime_parsing": Reason.NOT_A_DATETIME,
    "datetime_from_date_parsing": Reason.NOT_A_DATETIME,
    "timezone_aware": Reason.NOT_A_DATETIME,
}
#: What a union or a validator adds to an error's location; not part of a field's name.
_TAGS = ("str", "list[str]", "int", "function-", "constrained-str", "lax-or-strict")


def _field(location: tuple[Any, ...]) -> str:
    parts = [
        str(part)
        for part in location
        if isinstance(part, str) and not any(part.startswith(tag) for tag in _TAGS)
    ]
    return ".".join(parts) or "body"


def _reason(error: dict[str, Any], field: str) -> Reason:
    if error["type"] == "literal_error":
        return Reason.UNKNOWN_LOCALE if field == "locale" else Reason.INVALID
    if error["type"] == "value_error":
        if field.endswith("submitted_at") or field.endswith("queued_at"):
            return Reason.NOT_A_DATETIME
        return Reason.INVALID
    return _REASONS.get(error["type"], Reason.INVALID)


def parse(model: type[M], data: Any) -> M:
    """Validate decoded JSON (or query arguments) with ``model``; raise the domain's
    ValidationError naming each bad field and why."""
    try:
        return model.model_validate(data)
    except PydanticError as failure:
        fields: dict[str, Reason] = {}
        for error in failure.errors(include_url=False, include_input=False):
            field = _field(error["loc"])
            message = str(error.get("ctx", {}).get("error", ""))
            if error["type"] == "value_error" and message.startswith(MISSING):
                # A rule over several fields names those it misses.
                for name in message.removeprefix(MISSING).split(","):
                    fields.setdefault(name, Reason.REQUIRED)
                continue
            fields.setdefault(field, _reason(error, field))
        raise ValidationError("The request is not valid.", fields) from None
