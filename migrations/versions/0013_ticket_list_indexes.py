"""the ticket list's indexes: (community, submission time, id) and per channel

A community's tickets newest first, by page or by keyset (`after`), read in index order without a
sort; the same for one channel (docs/scale.md).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 12:40:00

"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_community_created_id', ['community_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tickets_community_channel_created', ['community_id', 'channel', 'created_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_community_channel_created')
        batch_op.drop_index('ix_tickets_community_created_id')
