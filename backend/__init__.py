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
    register_console(app)
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
    from miniprogram_api.api import JSONProvider, LinliApi, VoteRefConverter

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations"))
    app.json = JSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["vote"] = VoteRefConverter
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
    """The JSON errors (docs/errors.md), request ids, what is logged."""
    from miniprogram_api import errors

    errors.init_app(app)


def register_commands(app):
    """flask commands: create-admin, import-registry, demo…"""
    from backend.cli import commands

    for command in commands:
        app.cli.add_command(command)


CONSOLE_DIST = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "console", "dist")
CONSOLE_NOT_BUILT = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>管理后台尚未构建</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.6">
<h1>管理后台尚未构建 / The console is not built</h1>
<p>服务器在 <code>console/dist/</code> 中没有找到管理后台的构建结果。请在项目目录中运行：</p>
<pre>bash scripts/serve.sh</pre>
<p>它会在源文件变化时构建管理后台（需要 Node.js 18 或更高版本和 npm）。也可以手动构建：</p>
<pre>npm ci --prefix console &amp;&amp; npm run build --prefix console</pre>
<p>The API itself works: <a href="/api/v1/docs">/api/v1/docs</a>.</p></body></html>"""


def register_console(app):
    """The web console (console/, built by Vite into console/dist) under /console/: hashed assets
    cached for a year, index.html never without asking (so a new build is picked up at once), every
    other path under /console/ answered with index.html for the console's own router. Without a build,
    a page saying how to make one (503), never a 500. The console talks to /api/v1 like any client."""
    from flask import Blueprint, abort, redirect, send_from_directory
    from werkzeug.security import safe_join

    dist = app.config.get("CONSOLE_DIST") or CONSOLE_DIST
    console = Blueprint("console_app", __name__)

    def index():
        if not os.path.isfile(os.path.join(dist, "index.html")):
            return CONSOLE_NOT_BUILT, 503, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}
        response = send_from_directory(dist, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return response

    @console.route("/console")
    def console_root():
        return redirect("/console/", code=301)

    @console.route("/console/", defaults={"path": ""})
    @console.route("/console/<path:path>")
    def console_file(path):
        if path.startswith("assets/"):
            # Vite names every asset by its content hash: a name never changes meaning
            if safe_join(dist, path) is None or not os.path.isfile(os.path.join(dist, path)):
                abort(404)
            response = send_from_directory(dist, path, max_age=31536000)
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            return response
        full = safe_join(dist, path) if path else None
        if full and os.path.isfile(full) and path != "index.html":
            response = send_from_directory(dist, path, max_age=0)
            response.headers["Cache-Control"] = "no-cache"
            return response
        return index()

    app.register_blueprint(console)
