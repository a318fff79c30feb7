"""kiosk devices, officer shifts, tickets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 13:55:01.921424
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('officer_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['kiosk_device.id'], name=op.f('fk_officer_shift_device_id_kiosk_device')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_officer_shift_officer_id_officer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_shift'))
    )
    with op.batch_alter_table('officer_shift', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_shift_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_officer_shift_officer_id'), ['officer_id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.Column('counter_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['counter_id'], ['counter.id'], name=op.f('fk_ticket_counter_id_counter')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_ticket_issued_by_id_user_account')),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_ticket_office_id_office')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_ticket_officer_id_officer')),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], name=op.f('fk_ticket_target_id_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket')),
    sa.UniqueConstraint('code', name=op.f('uq_ticket_code'))
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_office_id'), ['office_id'], unique=False)

    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('app_version', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('queue_depth', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('oldest_queued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('officer_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_kiosk_device_officer_id_officer'), 'officer', ['officer_id'], ['id'])

    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('badge_secret_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_officer_badge_secret_hash'), ['badge_secret_hash'])

    with op.batch_alter_table('pairing_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('numeric_code_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_pairing_code_numeric_code_hash'), ['numeric_code_hash'], unique=False)

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_response_ticket_id'), ['ticket_id'])
        batch_op.create_foreign_key(batch_op.f('fk_response_ticket_id_ticket'), 'ticket', ['ticket_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_ticket_id_ticket'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_response_ticket_id'), type_='unique')
        batch_op.drop_column('ticket_id')

    with op.batch_alter_table('pairing_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_code_numeric_code_hash'))
        batch_op.drop_column('numeric_code_hash')

    with op.batch_alter_table('officer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_officer_badge_secret_hash'), type_='unique')
        batch_op.drop_column('badge_secret_hash')

    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kiosk_device_officer_id_officer'), type_='foreignkey')
        batch_op.drop_column('officer_id')
        batch_op.drop_column('last_error')
        batch_op.drop_column('oldest_queued_at')
        batch_op.drop_column('queue_depth')
        batch_op.drop_column('app_version')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_office_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_issued_at'))

    op.drop_table('ticket')
    with op.batch_alter_table('officer_shift', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_shift_officer_id'))
        batch_op.drop_index(batch_op.f('ix_officer_shift_device_id'))

    op.drop_table('officer_shift')
