"""media upload counters join the shared rate counters

Uploads per user per minute are counted in rate_counters (key "upload:user:<id>") like every other
rate limit; the table of their own goes. Counts are per minute: nothing worth moving.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('media_upload_counters')


def downgrade():
    op.create_table('media_upload_counters',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_media_upload_counters_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'window_start', name=op.f('pk_media_upload_counters'))
    )
