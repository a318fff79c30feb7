"""A spreadsheet of the organisation, uploaded and waiting to be applied after its preview."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base


class OrgImport(Base):
    """The file as uploaded (kept in the database, so any app server can apply it)."""

    __tablename__ = "org_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    applied_at: Mapped[datetime | None]
