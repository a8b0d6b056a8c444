"""moderation: reports, moderators' decisions, hidden issues and comments

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-23 09:00:00

Written by hand. The hidden_* columns are added in place (no table copy on SQLite: a
copy of `issue` would have to drop a table that other tables reference). On SQLite the
foreign key of hidden_by_id is declared inline with the column, which SQLite's ADD COLUMN
allows (unnamed there); elsewhere it is the named constraint of the column's ForeignKey.
"""
from alembic import op
import sqlalchemy as sa

import civic.models


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_TARGET = sa.Enum('issue', 'comment', 'membership', name='targettype', native_enum=False,
                  length=20)


def _add_hidden_columns(table: str) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    fk = f'fk_{table}_hidden_by_id_user_account'
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', civic.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('hidden_reason', sa.String(length=200), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('hidden_by_id', sa.Integer(),
                                      sa.ForeignKey('user_account.id', name=fk), nullable=True),
                            inline_references=sqlite)


def _drop_hidden_columns(table: str) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        # SQLite drops a column in place only when nothing refers to it, the inline
        # foreign key included; the column is dropped with a table copy instead.
        with op.batch_alter_table(table, schema=None, recreate='always') as batch_op:
            batch_op.drop_column('hidden_by_id')
            batch_op.drop_column('hidden_reason')
            batch_op.drop_column('hidden_at')
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(f'fk_{table}_hidden_by_id_user_account', type_='foreignkey')
        batch_op.drop_column('hidden_by_id')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('hidden_at')


def upgrade():
    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('target_type', _TARGET, nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reporter_unit_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('resolved_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_report_community_id_community')),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_report_reporter_id_user_account')),
    sa.ForeignKeyConstraint(['reporter_unit_id'], ['unit.id'], name=op.f('fk_report_reporter_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report')),
    sa.UniqueConstraint('target_type', 'target_id', 'reporter_unit_id', name=op.f('uq_report_target_type_target_id_reporter_unit_id'))
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_community_open', ['community_id', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_id'), ['reporter_id'], unique=False)

    op.create_table('moderation_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('hide', 'restore', 'dismiss', 'suspend', 'unsuspend', name='actionkind', native_enum=False, length=20), nullable=False),
    sa.Column('target_type', _TARGET, nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_moderation_action_actor_id_user_account')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_moderation_action_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_action'))
    )
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_action_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_moderation_action_target', ['target_type', 'target_id'], unique=False)

    _add_hidden_columns('issue')
    _add_hidden_columns('comment')
    # MembershipStatus gains 'suspended': a non-native enum (VARCHAR(20), no CHECK), so
    # the column needs no change.


def downgrade():
    _drop_hidden_columns('comment')
    _drop_hidden_columns('issue')
    with op.batch_alter_table('moderation_action', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_action_target')
        batch_op.drop_index(batch_op.f('ix_moderation_action_community_id'))
    op.drop_table('moderation_action')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_reporter_id'))
        batch_op.drop_index('ix_report_community_open')
    op.drop_table('report')
