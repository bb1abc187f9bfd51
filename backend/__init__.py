"""The Linli application factory: the composition root.

`create_app` is the one place that knows every layer — the core's configuration and extensions, the
HTTP layer's Api, blueprints and error handlers (miniprogram_api), the commands — and wires them
together; no other module imports a layer above its own (tests/voting/test_isolation.py). The HTTP
layer is imported inside the functions below, not at the top: this file runs first whenever any
`backend.*` module is imported, and the core must load without the HTTP layer.
"""
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
    # alembic announces each of its plugins at INFO when autogenerate is imported: noise at every start
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class IdConverter(IntegerConverter):
    """`<int:...>` ids in URLs: 1 … 2^31−1 (a database integer); anything else is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_extensions(app):
    """Database and migrations (the core's); the JSON encoder and the OpenAPI-publishing Api (HTTP)."""
    from backend.extensions import db, migrate
    from miniprogram_api.api import JSONProvider, LinliApi

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.extensions["linli_api"] = LinliApi(app)


def register_services(app):
    """Every service module, imported here so that the hooks they register when imported (who may
    see the media attached to their objects) exist whatever the blueprints happen to import."""
    from backend import services

    services.load_all()


def register_blueprints(app):
    """Every resource of miniprogram_api under /api/v1, and the docs page's files."""
    from miniprogram_api import blueprints, plain_blueprints
    from miniprogram_api.api import swagger_ui_blueprint
    from miniprogram_api.json_body import check_json_body

    app.before_request(check_json_body)
    for blp in blueprints():
        app.extensions["linli_api"].register_blueprint(blp)
    app.register_blueprint(swagger_ui_blueprint())
    for blp in plain_blueprints():
        app.register_blueprint(blp)


def register_error_handlers(app):
    """The §7 JSON errors, request ids, what is logged."""
    from miniprogram_api import errors

    errors.init_app(app)


def register_commands(app):
    """flask commands: create-admin, import-registry, demo…"""
    from backend.cli import commands

    for command in commands:
        app.cli.add_command(command)
