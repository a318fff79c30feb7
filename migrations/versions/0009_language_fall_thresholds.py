"""Each user's e-mail language; the fall rule's windows and minimum adjustable per place

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 10:00:00

Existing users receive Vietnamese, as before (the server default); existing rule adjustments
leave the fall rule's numbers empty, that is inherited (7 days against 8 weeks, MIN_RESPONSES).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="vi")
        )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fall_recent_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fall_baseline_weeks", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fall_min_responses", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.drop_column("fall_min_responses")
        batch_op.drop_column("fall_baseline_weeks")
        batch_op.drop_column("fall_recent_days")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("language")
