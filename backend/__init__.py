"""The Linli application factory."""
import logging
import os

from flask import Flask
from werkzeug.routing import IntegerConverter

from backend.config import Config


def create_app(config=None):
    """Build the app: configuration, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, instance_path=None)
    register_config(app, config)
    register_extensions(app)
    register_services(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_config(app, config):
    """Settings from a Config (environment by default) or a dict of overrides on it."""
    if config is None:
        config = Config()
    elif isinstance(config, dict):
        config = Config(**config)
    config.validate()
    app.config.from_mapping(config.as_mapping())
    os.makedirs(app.config["INSTANCE_PATH"], exist_ok=True)
    if app.config["WECHAT_DEV_FAKE"]:
        from backend.fake_wechat import ensure_dev_fake

        # gunicorn's master starts one fake for all workers (gunicorn.conf.py); otherwise start our own.
        app.config["WECHAT_API_BASE"] = os.environ.get("LINLI_DEV_FAKE_BASE") or ensure_dev_fake(
            app.config["WECHAT_APPID"], app.config["WECHAT_SECRET"])
    logging.basicConfig(level=logging.INFO)


class IdConverter(IntegerConverter):
    """`<int:...>` ids in URLs: 1 … 2^31−1 (a database integer); anything else is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_extensions(app):
    """Database, migrations and the OpenAPI-generating Api."""
    from backend.extensions import api, db, migrate

    app.url_map.converters["int"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})


def register_services(app):
    """Every service module, imported here so that the hooks they register when imported (who may
    see the media attached to their objects) exist whatever the blueprints happen to import."""
    from backend import services

    services.load_all()


def register_blueprints(app):
    """Every resource of miniprogram_api under /api/v1."""
    from backend.extensions import api
    from miniprogram_api import blueprints

    for blp in blueprints():
        api.register_blueprint(blp)


def register_error_handlers(app):
    """The §7 JSON errors."""
    from backend.errors import register_error_handlers as register

    register(app)


def register_commands(app):
    """flask commands: create-admin, import-registry, demo."""
    from backend.cli import commands

    for command in commands:
        app.cli.add_command(command)
