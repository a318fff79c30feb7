"""Administration: retiring places, opening hours per weekday, survey versions and where they
are asked, officers' own PINs, one-time password links, token labels, imports, the audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 11:00:00
"""
from datetime import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _hhmm(value) -> str:
    if isinstance(value, str):
        return value[:5]
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return "07:30"


def upgrade() -> None:
    for table in ("unit", "counter"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
            )

    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("opening_hours", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("kiosk_survey_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("ticket_survey_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_office_kiosk_survey_id_survey", "survey", ["kiosk_survey_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_office_ticket_survey_id_survey", "survey", ["ticket_survey_id"], ["id"]
        )
    connection = op.get_bind()
    for office_id, opens, closes in connection.execute(
        sa.text("SELECT id, opens_at, closes_at FROM office")
    ).all():
        # The old hours applied Monday to Friday.
        day = [_hhmm(opens), _hhmm(closes)]
        connection.execute(
            sa.text("UPDATE office SET opening_hours = :hours WHERE id = :id").bindparams(
                sa.bindparam("hours", type_=sa.JSON())
            ),
            {"hours": [day] * 5 + [None, None], "id": office_id},
        )
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.alter_column("opening_hours", existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column("opens_at")
        batch_op.drop_column("closes_at")

    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_setup_hash", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pin_setup_expires_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("photo", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("photo_type", sa.String(length=32), nullable=True))

    op.create_table(
        "officer_counter",
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"],
            ["counter.id"],
            name="fk_officer_counter_counter_id_counter",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["officer.id"],
            name="fk_officer_counter_officer_id_officer",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("officer_id", "counter_id", name="pk_officer_counter"),
    )

    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", sa.DateTime(), nullable=True))
    connection.execute(sa.text("UPDATE survey SET published_at = created_at"))

    op.create_table(
        "survey_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("survey_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name="fk_survey_assignment_office_id_office"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name="fk_survey_assignment_unit_id_unit"),
        sa.PrimaryKeyConstraint("id", name="pk_survey_assignment"),
        sa.UniqueConstraint(
            "unit_id", "office_id", "channel", name="uq_survey_assignment_place"
        ),
    )
    op.create_index("ix_survey_assignment_unit_id", "survey_assignment", ["unit_id"])
    op.create_index("ix_survey_assignment_office_id", "survey_assignment", ["office_id"])

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_link_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("password_link_expires_at", sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_user_account_password_link_hash", ["password_link_hash"]
        )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("label", sa.String(length=100), nullable=False, server_default="")
        )

    op.create_table(
        "org_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name="fk_org_import_created_by_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_org_import"),
    )

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=254), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name="fk_audit_entry_actor_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_entry"),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_action_at", "audit_entry", ["action", "at"])
    op.create_index("ix_audit_entry_actor_at", "audit_entry", ["actor_email", "at"])


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("org_import")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("label")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_account_password_link_hash", type_="unique")
        batch_op.drop_column("password_link_expires_at")
        batch_op.drop_column("password_link_hash")
    op.drop_index("ix_survey_assignment_office_id", table_name="survey_assignment")
    op.drop_index("ix_survey_assignment_unit_id", table_name="survey_assignment")
    op.drop_table("survey_assignment")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("published_at")
    op.drop_table("officer_counter")
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("photo_type")
        batch_op.drop_column("photo")
        batch_op.drop_column("pin_setup_expires_at")
        batch_op.drop_column("pin_setup_hash")
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("opens_at", sa.Time(), nullable=False, server_default="07:30:00")
        )
        batch_op.add_column(
            sa.Column("closes_at", sa.Time(), nullable=False, server_default="17:00:00")
        )
        batch_op.drop_constraint("fk_office_ticket_survey_id_survey", type_="foreignkey")
        batch_op.drop_constraint("fk_office_kiosk_survey_id_survey", type_="foreignkey")
        batch_op.drop_column("ticket_survey_id")
        batch_op.drop_column("kiosk_survey_id")
        batch_op.drop_column("opening_hours")
        batch_op.drop_column("is_active")
    for table in ("counter", "unit"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("is_active")
