"""Covering index for the dashboard's per-office counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 15:15:00
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_office_submitted")
        batch_op.create_index(
            "ix_response_office_submitted", ["office_id", "submitted_at", "headline_polarity"]
        )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index("ix_response_office_submitted")
        batch_op.create_index("ix_response_office_submitted", ["office_id", "submitted_at"])
