"""e-mail notifications: per-user settings and an outbox

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import civic.models


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_setting',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('mode', sa.Enum('immediate', 'daily', 'off', name='emailmode', native_enum=False, length=20), nullable=False),
    sa.Column('last_digest_at', civic.models.UTCDateTime(), nullable=True),
    sa.CheckConstraint("mode = 'off' OR email IS NOT NULL", name=op.f('ck_notification_setting_mode_needs_email')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_setting_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_setting'))
    )
    op.create_table('outbox_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='outboxstatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', civic.models.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('sent_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_email_attempts_nonnegative')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_email_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email'))
    )
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_email_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_outbox_email_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_status_next')
        batch_op.drop_index(batch_op.f('ix_outbox_email_user_id'))

    op.drop_table('outbox_email')
    op.drop_table('notification_setting')
