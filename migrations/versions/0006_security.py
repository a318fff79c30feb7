"""Security: server-side sessions, a second factor, sign-in throttling, token scopes and
expiry, officer PIN lockout, rotating kiosk credentials

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:40:00
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_user_session_user_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_user_session"),
        sa.UniqueConstraint("secret_hash", name="uq_user_session_secret_hash"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id"])
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_recovery_code_user_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_code"),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("wait_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_sign_in_throttle"),
    )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        # Sessions now live in user_session: ending those rows is what signs a browser out.
        batch_op.drop_column("session_version")

    inspector = sa.inspect(op.get_bind())
    token_columns = {c["name"] for c in inspector.get_columns("api_token")}
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scope", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        if "last_used_at" not in token_columns:
            batch_op.add_column(sa.Column("last_used_at", sa.DateTime(), nullable=True))
    # Existing tokens could do everything their owner could: they keep that, for 90 days.
    op.get_bind().execute(
        sa.text("UPDATE api_token SET scope = 'admin', expires_at = :expires"),
        {"expires": _now() + timedelta(days=90)},
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("scope", existing_type=sa.String(length=16), nullable=False)
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pin_failures", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("pin_locked_until", sa.DateTime(), nullable=True))

    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("previous_token_hash", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("previous_token_until", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_kiosk_device_previous_token_hash", ["previous_token_hash"], unique=False
        )
    op.get_bind().execute(sa.text("UPDATE kiosk_device SET token_issued_at = created_at"))


def downgrade() -> None:
    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.drop_index("ix_kiosk_device_previous_token_hash")
        batch_op.drop_column("previous_token_until")
        batch_op.drop_column("previous_token_hash")
        batch_op.drop_column("token_issued_at")

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("pin_locked_until")
        batch_op.drop_column("pin_failures")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scope")

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")

    op.drop_table("sign_in_throttle")
    op.drop_index("ix_recovery_code_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_index("ix_user_session_user_id", table_name="user_session")
    op.drop_table("user_session")
