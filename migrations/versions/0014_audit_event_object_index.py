"""an index of the audit chain by object

The decision page and the spending ledger show each record's first event in the chain (the
record of its creation) by object: without an index that was a scan of the whole chain,
which grows with every change (every co-sign appends one event), on every such page.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 06:55:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_audit_event_object", "audit_event", ["object_type", "object_id", "seq"])


def downgrade():
    op.drop_index("ix_audit_event_object", table_name="audit_event")
