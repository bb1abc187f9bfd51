"""media and upload rate counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:30:14.750640

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('attached_type', sa.String(length=32), nullable=True),
    sa.Column('attached_id', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('attached_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_media_community_id_communities')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_media_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_media_storage_key'))
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index('ix_media_attached', ['attached_type', 'attached_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_media_unattached', ['attached_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('media_upload_counters',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_media_upload_counters_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'window_start', name=op.f('pk_media_upload_counters'))
    )


def downgrade():
    op.drop_table('media_upload_counters')
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_uploader_id'))
        batch_op.drop_index('ix_media_unattached')
        batch_op.drop_index(batch_op.f('ix_media_community_id'))
        batch_op.drop_index('ix_media_attached')

    op.drop_table('media')
