"""The migrations are the only source of the schema: they must agree with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.extensions import db


def test_migrated_schema_matches_models(app):
    with app.app_context():
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, db.metadata)
    assert diff == []


def test_single_migration_head(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config as _  # noqa: F401

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads} — add a merge migration"
