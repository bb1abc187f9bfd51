"""console sessions and QR login challenges

Where a session was signed in (the mini-program or the web console, with the browser and address
for the owner's list of sessions), and the one-time challenges of the console's QR sign-in.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 11:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='miniprogram', nullable=False))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('client_ip', sa.String(length=64), nullable=True))
    op.create_table('console_login_challenges',
    sa.Column('code', sa.String(length=43), nullable=False),
    sa.Column('poll_secret_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.String(length=255), nullable=True),
    sa.Column('user_agent', sa.String(length=255), nullable=True),
    sa.Column('client_ip', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_console_login_challenges_user_id_users')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_console_login_challenges'))
    )
    with op.batch_alter_table('console_login_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_login_challenges_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('console_login_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_login_challenges_expires_at'))
    op.drop_table('console_login_challenges')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('client_ip')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('kind')
