"""Shifts know their closing time; ratings over a code's ceiling are held as suspect

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _closing_after(started_at: datetime, timezone: str, closes: object) -> datetime:
    """The office's first closing time after a sign-in (as surveys.officers computes it)."""
    if isinstance(closes, str):
        closes = datetime.strptime(closes[:8], "%H:%M:%S").time()
    zone = ZoneInfo(timezone)
    local = started_at.replace(tzinfo=UTC).astimezone(zone)
    day = local.date() + timedelta(days=1 if local.time() >= closes else 0)
    return datetime.combine(day, closes, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def upgrade() -> None:
    with op.batch_alter_table("officer_shift", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closes_at", sa.DateTime(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT s.id, s.started_at, s.ended_at, o.timezone, o.closes_at "
            "FROM officer_shift s JOIN kiosk_device d ON d.id = s.device_id "
            "JOIN counter c ON c.id = d.counter_id JOIN office o ON o.id = c.office_id"
        )
    ).all()
    for shift_id, started_at, ended_at, timezone, closes in rows:
        if isinstance(started_at, str):
            started_at = datetime.fromisoformat(started_at)
        connection.execute(
            sa.text("UPDATE officer_shift SET closes_at = :closes WHERE id = :id"),
            {"closes": _closing_after(started_at, timezone, closes), "id": shift_id},
        )
    with op.batch_alter_table("officer_shift", schema=None) as batch_op:
        batch_op.alter_column("closes_at", existing_type=sa.DateTime(), nullable=False)

    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_suspect", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("suspect_reviewed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("suspect_reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_response_suspect_reviewed_by_id_user_account",
            "user_account",
            ["suspect_reviewed_by_id"],
            ["id"],
        )
        batch_op.drop_index("ix_response_office_submitted")
        batch_op.create_index(
            "ix_response_office_submitted",
            ["office_id", "submitted_at", "headline_polarity", "is_suspect"],
        )
        batch_op.create_index(
            "ix_response_suspect_pending", ["is_suspect", "suspect_reviewed_at", "target_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_suspect_pending")
        batch_op.drop_index("ix_response_office_submitted")
        batch_op.create_index(
            "ix_response_office_submitted", ["office_id", "submitted_at", "headline_polarity"]
        )
        batch_op.drop_constraint(
            "fk_response_suspect_reviewed_by_id_user_account", type_="foreignkey"
        )
        batch_op.drop_column("suspect_reviewed_by_id")
        batch_op.drop_column("suspect_reviewed_at")
        batch_op.drop_column("is_suspect")
    with op.batch_alter_table("officer_shift", schema=None) as batch_op:
        batch_op.drop_column("closes_at")
