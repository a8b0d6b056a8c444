"""consultation rounds: consultations, rounds, seats, options, seat votes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 12:00:00

Written by hand. consultation_round.adopted_option_id and round_option.round_id refer to
each other. SQLite accepts a reference to a table that does not exist yet, so there the
foreign key is declared inline when consultation_round is created (adding it later would
need a table copy); PostgreSQL gets it with ALTER TABLE once round_option exists.
"""
from alembic import op
import sqlalchemy as sa

import civic.models


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _adopted_fk(inline: bool) -> list:
    if not inline:
        return []
    return [sa.ForeignKeyConstraint(
        ['adopted_option_id'], ['round_option.id'],
        name=op.f('fk_consultation_round_adopted_option_id_round_option'))]


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_table('consultation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('open', 'closed', name='consultationstate', native_enum=False, length=20), nullable=False),
    sa.Column('closed_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_consultation_community_id_community')),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_consultation_issue_id_issue')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'], name=op.f('fk_consultation_opened_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation')),
    sa.UniqueConstraint('issue_id', name=op.f('uq_consultation_issue_id'))
    )
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_community_id'), ['community_id'], unique=False)

    op.create_table('consultation_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'noticed', 'open', 'closed', name='roundstate', native_enum=False, length=20), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=80), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('starts_at', civic.models.UTCDateTime(), nullable=False),
    sa.Column('closes_at', civic.models.UTCDateTime(), nullable=False),
    sa.Column('notice_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('rule', sa.Enum('consensus', 'majority_each', 'majority_all', 'two_thirds_all', name='rule', native_enum=False, length=20), nullable=False),
    sa.Column('quorum_num', sa.Integer(), nullable=False),
    sa.Column('quorum_den', sa.Integer(), nullable=False),
    sa.Column('frozen_hash', sa.String(length=64), nullable=True),
    sa.Column('opened_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('closed_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('adopted_option_id', sa.Integer(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('closes_at > starts_at', name=op.f('ck_consultation_round_closes_after_start')),
    sa.CheckConstraint('quorum_den > 0 AND quorum_num >= 0 AND quorum_num <= quorum_den', name=op.f('ck_consultation_round_quorum_fraction')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_consultation_round_community_id_community')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_consultation_round_consultation_id_consultation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_round')),
    sa.UniqueConstraint('consultation_id', 'number', name=op.f('uq_consultation_round_consultation_id_number')),
    *_adopted_fk(inline=sqlite)
    )
    with op.batch_alter_table('consultation_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_round_community_id'), ['community_id'], unique=False)

    op.create_table('round_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('cost_fen', sa.BigInteger(), nullable=False),
    sa.Column('funding_source', sa.Enum('maintenance_fund', 'public_income', 'autonomy_fund', 'service_fee', 'government', 'other', name='fundingsource', native_enum=False, length=20), nullable=True),
    sa.Column('executor', sa.Enum('committee', 'association', 'property', 'resident', name='body', native_enum=False, length=20), nullable=True),
    sa.Column('is_status_quo', sa.Boolean(), nullable=False),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.CheckConstraint('cost_fen >= 0', name=op.f('ck_round_option_cost_nonnegative')),
    sa.ForeignKeyConstraint(['round_id'], ['consultation_round.id'], name=op.f('fk_round_option_round_id_consultation_round')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_option')),
    sa.UniqueConstraint('round_id', 'position', name=op.f('uq_round_option_round_id_position'))
    )
    with op.batch_alter_table('round_option', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_option_round_id'), ['round_id'], unique=False)

    if not sqlite:
        op.create_foreign_key(op.f('fk_consultation_round_adopted_option_id_round_option'),
                              'consultation_round', 'round_option', ['adopted_option_id'], ['id'])

    op.create_table('round_seat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Enum('committee', 'association', 'property', 'resident', name='body', native_enum=False, length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], name=op.f('fk_round_seat_membership_id_membership')),
    sa.ForeignKeyConstraint(['round_id'], ['consultation_round.id'], name=op.f('fk_round_seat_round_id_consultation_round')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_round_seat_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_seat')),
    sa.UniqueConstraint('round_id', 'user_id', name=op.f('uq_round_seat_round_id_user_id'))
    )
    with op.batch_alter_table('round_seat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_seat_user_id'), ['user_id'], unique=False)

    op.create_table('seat_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('vote', sa.Enum('agree', 'oppose', 'abstain', name='vote', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_at', civic.models.UTCDateTime(), nullable=False),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['option_id'], ['round_option.id'], name=op.f('fk_seat_vote_option_id_round_option')),
    sa.ForeignKeyConstraint(['round_id'], ['consultation_round.id'], name=op.f('fk_seat_vote_round_id_consultation_round')),
    sa.ForeignKeyConstraint(['seat_id'], ['round_seat.id'], name=op.f('fk_seat_vote_seat_id_round_seat')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_vote')),
    sa.UniqueConstraint('seat_id', 'option_id', name=op.f('uq_seat_vote_seat_id_option_id'))
    )
    with op.batch_alter_table('seat_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seat_vote_option_id'), ['option_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seat_vote_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('seat_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seat_vote_round_id'))
        batch_op.drop_index(batch_op.f('ix_seat_vote_option_id'))

    op.drop_table('seat_vote')
    with op.batch_alter_table('round_seat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_seat_user_id'))

    op.drop_table('round_seat')
    with op.batch_alter_table('round_option', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_option_round_id'))

    # the two tables refer to each other: cut the round → adopted option link first
    op.execute("UPDATE consultation_round SET adopted_option_id = NULL")
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_consultation_round_adopted_option_id_round_option'),
                           'consultation_round', type_='foreignkey')
    op.drop_table('round_option')
    with op.batch_alter_table('consultation_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_round_community_id'))

    op.drop_table('consultation_round')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_community_id'))

    op.drop_table('consultation')
