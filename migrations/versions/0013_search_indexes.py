"""trigram indexes for Chinese search (PostgreSQL)

The issue list's search matches each term anywhere in the title or the body (LIKE
'%term%'): Chinese needs no tokeniser, and substring matching is what readers expect. On
PostgreSQL, pg_trgm's GIN indexes answer such a LIKE from the index for terms of three
characters or more; shorter terms, and databases where the extension cannot be created,
fall back to scanning the community's issues, which gives the same rows. SQLite has no
such index: it scans the community's issues (its own index narrows them first).

The indexes are not in the models (they are PostgreSQL's alone): `civic.database.
include_object` keeps autogenerate and the drift test from seeing them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 03:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

INDEXES = {"ix_issue_title_trgm": "title", "ix_issue_body_trgm": "body"}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # a trusted extension since PostgreSQL 13: the database's owner may create it
    op.execute("""DO $$ BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
        RAISE NOTICE 'pg_trgm is not available: search scans the community''s issues';
    END $$""")
    for name, column in INDEXES.items():
        op.execute(f"""DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
                CREATE INDEX IF NOT EXISTS {name} ON issue USING gin ({column} gin_trgm_ops);
            END IF;
        END $$""")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
