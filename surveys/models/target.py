"""Public short codes that point at an office, a counter or an officer, with a survey."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, ForeignKey, String, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.errors import InvalidTransition
from surveys.models.org import Counter, Office, Officer
from surveys.models.survey import Survey

TARGET_KINDS = ("office", "counter", "officer")


class Target(Base):
    __tablename__ = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: Set when the code was replaced by a new one; the old code then only explains that.
    rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    office: Mapped[Office] = relationship()
    counter: Mapped[Counter | None] = relationship()
    officer: Mapped[Officer | None] = relationship()
    survey: Mapped[Survey] = relationship()

    @hybrid_property
    def is_active(self) -> bool:
        """Whether the code takes answers: switched on and not replaced by a newer one."""
        return self.is_enabled and self.rotated_at is None

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls) -> ColumnElement[bool]:
        return and_(cls.is_enabled.is_(True), cls.rotated_at.is_(None))

    @property
    def label(self) -> str:
        """Return the name a citizen sees: the officer, counter or office."""
        if self.officer is not None:
            return self.officer.name
        if self.counter is not None:
            return f"{self.counter.name} · {self.office.name}"
        return self.office.name

    def retire(self, now: datetime) -> None:
        """Mark this code as replaced by a newer one."""
        if self.rotated_at is not None:
            raise InvalidTransition("This code was already replaced.")
        self.rotated_at = now
