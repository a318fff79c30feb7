"""One-time codes printed on a receipt or queue ticket: one verified response each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveys.db import Base, utcnow
from surveys.errors import Reason, TicketExpired, TicketUsed
from surveys.models.org import Counter, Office, Officer
from surveys.models.target import Target


class Ticket(Base):
    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counter.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    #: The survey code the ticket opens: its counter's, else its office's.
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"))
    #: Free text from the queue system, e.g. the procedure the citizen came for.
    service: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    office: Mapped[Office] = relationship()
    counter: Mapped[Counter | None] = relationship()
    officer: Mapped[Officer | None] = relationship()
    target: Mapped[Target] = relationship()

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def check_usable(self, now: datetime) -> None:
        """Raise TicketUsed or TicketExpired (both InvalidTransition) when it cannot be redeemed."""
        if self.used_at is not None:
            raise TicketUsed("This ticket was already used.", {"ticket": Reason.USED})
        if self.is_expired(now):
            raise TicketExpired("This ticket has expired.", {"ticket": Reason.EXPIRED})
