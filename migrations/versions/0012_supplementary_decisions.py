"""supplementary decisions (补充决议)

A decision of a later round may raise the budget of an effective decision and replace it
when it takes effect. The link, like the rest of a decision's content, is never changed:
a trigger refuses it.

On SQLite the column is added in place, with its reference: rebuilding the table (batch
mode) would drop a table that other rows refer to, which foreign keys forbid.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 20:07:00.558938

"""
from alembic import op
import sqlalchemy as sa

import civic.models


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

SQLITE_TRIGGER = """CREATE TRIGGER decision_supplement_fixed
    BEFORE UPDATE OF supplements_id ON decision
    BEGIN SELECT RAISE(ABORT, 'a published decision is never edited'); END"""
POSTGRES_TRIGGER = [
    """CREATE FUNCTION decision_supplement_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.supplements_id IS DISTINCT FROM NEW.supplements_id THEN
            RAISE EXCEPTION 'a published decision is never edited';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER decision_supplement_fixed BEFORE UPDATE ON decision
       FOR EACH ROW EXECUTE FUNCTION decision_supplement_fixed()""",
]

#: 0008's triggers, which rebuilding the table in the SQLite downgrade drops
CONTENT = ("community_id", "issue_id", "consultation_id", "round_id", "version",
           "corrects_id", "outcome", "adopted_option_id", "title", "summary",
           "rule", "tally", "lead", "due_on", "budget_fen", "funding_source",
           "owners_item", "correction_note", "content_hash", "published_by_id")
SQLITE_0008 = [
    "DROP TRIGGER IF EXISTS decision_content_fixed",
    "DROP TRIGGER IF EXISTS decision_no_delete",
    f"""CREATE TRIGGER decision_content_fixed BEFORE UPDATE OF {', '.join(CONTENT)} ON decision
        BEGIN SELECT RAISE(ABORT, 'a published decision is never edited'); END""",
    """CREATE TRIGGER decision_no_delete BEFORE DELETE ON decision
       BEGIN SELECT RAISE(ABORT, 'a published decision is never deleted'); END""",
]


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('decision', sa.Column('supplements_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_decision_supplements_id_decision'), 'decision',
                              'decision', ['supplements_id'], ['id'])
        op.create_index(op.f('ix_decision_supplements_id'), 'decision', ['supplements_id'],
                        unique=False)
        for stmt in POSTGRES_TRIGGER:
            op.execute(stmt)
    else:
        op.execute("ALTER TABLE decision ADD COLUMN supplements_id INTEGER "
                   "CONSTRAINT fk_decision_supplements_id_decision REFERENCES decision (id)")
        op.create_index(op.f('ix_decision_supplements_id'), 'decision', ['supplements_id'],
                        unique=False)
        op.execute(SQLITE_TRIGGER)


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute("DROP TRIGGER decision_supplement_fixed ON decision")
        op.execute("DROP FUNCTION decision_supplement_fixed()")
    else:
        op.execute("DROP TRIGGER decision_supplement_fixed")
    with op.batch_alter_table('decision', schema=None) as batch_op:
        if postgres:  # SQLite's rebuilt table leaves the column's reference out with it
            batch_op.drop_constraint(batch_op.f('fk_decision_supplements_id_decision'),
                                     type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_decision_supplements_id'))
        batch_op.drop_column('supplements_id')
    if not postgres:
        for stmt in SQLITE_0008:
            op.execute(stmt)
