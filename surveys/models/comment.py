"""What a manager did about a citizen's comment."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base


class CommentReview(Base):
    """A comment marked handled, with the manager's note; the comment itself is never changed."""

    __tablename__ = "comment_review"

    response_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    handled_at: Mapped[datetime]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
