"""tickets counted per status from one index

The ticket inbox's counts per status and the overdue ones among them, and the street dashboard's
open, overdue and escalated tickets per compound, read (community, status, subject, submission time;
escalation time in the leaves on PostgreSQL) from an index alone: at city scale a compound's
~3,000 tickets lie on ~3,000 table pages, and counting them from the rows took 36 ms a request
(docs/scale.md). It replaces (community, status), its prefix; (community, submission time) goes,
since 0013's (community, submission time, id) serves everything it did.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27 14:20:00

"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_community_status_subject',
                              ['community_id', 'status', 'subject', 'created_at'], unique=False,
                              postgresql_include=['escalated_at'])
        batch_op.drop_index('ix_tickets_community_status')
        batch_op.drop_index('ix_tickets_community_created')


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_community_status', ['community_id', 'status'], unique=False)
        batch_op.drop_index('ix_tickets_community_status_subject')
