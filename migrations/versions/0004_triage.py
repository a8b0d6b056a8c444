"""triage, responsibility list, precedents, official responses

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import civic.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('responsibility_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('lead', sa.Enum('committee', 'association', 'property', name='body', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_responsibility_rule_community_id_community')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responsibility_rule')),
    sa.UniqueConstraint('community_id', 'category', name=op.f('uq_responsibility_rule_community_id_category'))
    )
    with op.batch_alter_table('responsibility_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responsibility_rule_community_id'), ['community_id'], unique=False)

    op.create_table('official_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Enum('committee', 'association', 'property', name='body', native_enum=False, length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_html', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=40), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_official_response_author_id_user_account')),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_official_response_issue_id_issue')),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], name=op.f('fk_official_response_membership_id_membership')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official_response'))
    )
    with op.batch_alter_table('official_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_official_response_issue_id'), ['issue_id'], unique=False)

    op.create_table('precedent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('lead', sa.Enum('committee', 'association', 'property', name='body', native_enum=False, length=20), nullable=False),
    sa.Column('ruling', sa.Text(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_precedent_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_precedent_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_precedent_issue_id_issue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_precedent'))
    )
    with op.batch_alter_table('precedent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_precedent_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_precedent_community_id'), ['community_id'], unique=False)

    op.create_table('triage',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Enum('pending', 'ruling', 'accepted', 'declined', 'merged', 'referred', name='outcome', native_enum=False, length=20), nullable=False),
    sa.Column('lead', sa.Enum('committee', 'association', 'property', name='body', native_enum=False, length=20), nullable=True),
    sa.Column('participants', sa.String(length=60), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('office', sa.String(length=80), nullable=False),
    sa.Column('office_ref', sa.String(length=60), nullable=False),
    sa.Column('ruling', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('response_due_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('responded_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('triage_soon_sent_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('triage_overdue_sent_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('response_soon_sent_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('response_overdue_sent_at', civic.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', civic.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_triage_community_id_community')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_triage_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_triage_issue_id_issue')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['issue.id'], name=op.f('fk_triage_merged_into_id_issue')),
    sa.PrimaryKeyConstraint('issue_id', name=op.f('pk_triage'))
    )
    with op.batch_alter_table('triage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_community_id'), ['community_id'], unique=False)


def downgrade():
    with op.batch_alter_table('triage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_community_id'))

    op.drop_table('triage')
    with op.batch_alter_table('precedent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_precedent_community_id'))
        batch_op.drop_index(batch_op.f('ix_precedent_category'))

    op.drop_table('precedent')
    with op.batch_alter_table('official_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_official_response_issue_id'))

    op.drop_table('official_response')
    with op.batch_alter_table('responsibility_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_responsibility_rule_community_id'))

    op.drop_table('responsibility_rule')
