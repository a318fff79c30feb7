"""Alerts, their per-place rules, webhooks, the outbox of e-mails and webhook deliveries,
periodic job runs, weekly digest opt-outs, actions published on an office's public page, and call-back cases

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
# Other branches take 0006 and 0007; whoever merges re-chains this one after them.
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("include_comments", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name="fk_webhook_created_by_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook"),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhook.id"], name="fk_outbox_message_webhook_id_webhook"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
    )
    op.create_index("ix_outbox_message_status_due", "outbox_message", ["status", "due_at"])
    op.create_index("ix_outbox_message_webhook_id", "outbox_message", ["webhook_id"])
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("burst_count", sa.Integer(), nullable=True),
        sa.Column("burst_minutes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name="fk_alert_rule_office_id_office"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_alert_rule_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rule"),
        sa.UniqueConstraint("unit_id", "office_id", "rule", name="uq_alert_rule_place"),
    )
    op.create_index("ix_alert_rule_unit_id", "alert_rule", ["unit_id"])
    op.create_index("ix_alert_rule_office_id", "alert_rule", ["office_id"])
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("episode_key", sa.String(length=64), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("last_triggered_at", sa.DateTime(), nullable=False),
        sa.Column("trigger_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("acknowledgement_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["user_account.id"],
            name="fk_alert_acknowledged_by_id_user_account",
        ),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"], name="fk_alert_counter_id_counter"),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"], name="fk_alert_office_id_office"),
        sa.ForeignKeyConstraint(["officer_id"], ["officer.id"], name="fk_alert_officer_id_officer"),
        sa.PrimaryKeyConstraint("id", name="pk_alert"),
    )
    op.create_index("ix_alert_office_raised", "alert", ["office_id", "raised_at"])
    op.create_index(
        "uq_alert_open_episode",
        "alert",
        ["office_id", "rule", "episode_key"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_run"),
        sa.UniqueConstraint("job", "period", name="uq_job_run_job"),
    )
    op.create_table(
        "digest_opt_out",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_digest_opt_out_user_id_user_account"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_digest_opt_out"),
    )
    op.create_table(
        "published_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name="fk_published_action_office_id_office"
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["user_account.id"],
            name="fk_published_action_published_by_id_user_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_published_action"),
    )
    op.create_index(
        "ix_published_action_office_published",
        "published_action",
        ["office_id", "published_at"],
    )
    op.create_table(
        "callback_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("contact_kind", sa.String(length=8), nullable=False),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("consent_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("contacted_by_id", sa.Integer(), nullable=True),
        sa.Column("contacted_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_note", sa.Text(), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contacted_by_id"],
            ["user_account.id"],
            name="fk_callback_case_contacted_by_id_user_account",
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counter.id"], name="fk_callback_case_counter_id_counter"
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name="fk_callback_case_office_id_office"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["user_account.id"],
            name="fk_callback_case_resolved_by_id_user_account",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name="fk_callback_case_response_id_response",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_callback_case"),
        sa.UniqueConstraint("response_id", name="uq_callback_case_response_id"),
    )
    op.create_index("ix_callback_case_status_due", "callback_case", ["status", "due_at"])
    op.create_index(
        "ix_callback_case_office_opened", "callback_case", ["office_id", "opened_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_callback_case_office_opened", table_name="callback_case")
    op.drop_index("ix_callback_case_status_due", table_name="callback_case")
    op.drop_table("callback_case")
    op.drop_index("ix_published_action_office_published", table_name="published_action")
    op.drop_table("published_action")
    op.drop_table("digest_opt_out")
    op.drop_table("job_run")
    op.drop_index("uq_alert_open_episode", table_name="alert")
    op.drop_index("ix_alert_office_raised", table_name="alert")
    op.drop_table("alert")
    op.drop_index("ix_alert_rule_office_id", table_name="alert_rule")
    op.drop_index("ix_alert_rule_unit_id", table_name="alert_rule")
    op.drop_table("alert_rule")
    op.drop_index("ix_outbox_message_webhook_id", table_name="outbox_message")
    op.drop_index("ix_outbox_message_status_due", table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_table("webhook")
