"""owner provenance, claimed addresses on bindings, shared rate counters

Who imported an owner or linked it to a part (a claim by that user is not verified by matching it);
the address a binding claims, kept whether or not the registry has that part; counters for rate
limits other than uploads.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counters'))
    )
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_owners_imported_by_users'), 'users', ['imported_by'], ['id'])
    with op.batch_alter_table('part_owners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_part_owners_imported_by_users'), 'users', ['imported_by'], ['id'])
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('building', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('room', sa.String(length=32), nullable=True))
    op.execute("UPDATE bindings SET building = (SELECT building FROM parts WHERE parts.id = bindings.part_id), "
               "unit = (SELECT unit FROM parts WHERE parts.id = bindings.part_id), "
               "room = (SELECT room FROM parts WHERE parts.id = bindings.part_id)")
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.alter_column('building', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('unit', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('room', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('part_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM binding_events WHERE binding_id IN (SELECT id FROM bindings WHERE part_id IS NULL)")
    op.execute("DELETE FROM bindings WHERE part_id IS NULL")
    with op.batch_alter_table('bindings', schema=None) as batch_op:
        batch_op.alter_column('part_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('room')
        batch_op.drop_column('unit')
        batch_op.drop_column('building')
    with op.batch_alter_table('part_owners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_part_owners_imported_by_users'), type_='foreignkey')
        batch_op.drop_column('imported_by')
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_owners_imported_by_users'), type_='foreignkey')
        batch_op.drop_column('imported_by')
    op.drop_table('rate_counters')
