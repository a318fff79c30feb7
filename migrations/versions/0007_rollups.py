"""Rollups: per-office daily counts written with each response, so dashboards never scan them;
comments marked handled

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:30:00

The rollups of responses already stored are computed by ``flask --app wsgi rollups rebuild``
(run it once after this upgrade; the figures are empty until then).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup",
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("choice_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("positives", sa.Integer(), nullable=False),
        sa.Column("negatives", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "grain",
            "office_id",
            "local_day",
            "hour",
            "counter_id",
            "officer_id",
            "channel",
            "question_id",
            "choice_id",
            name="pk_rollup",
        ),
    )


    op.create_table(
        "comment_review",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("handled_at", sa.DateTime(), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["user_account.id"],
            name="fk_comment_review_handled_by_id_user_account",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name="fk_comment_review_response_id_response",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name="pk_comment_review"),
    )


def downgrade() -> None:
    op.drop_table("comment_review")
    op.drop_table("rollup")
