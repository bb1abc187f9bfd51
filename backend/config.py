"""Configuration: one Config class filled from environment variables (the table in README.md "Configuration")."""
import base64
import binascii
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-secret-not-for-production"
# 32 zero-ish bytes, base64: only ever used in development and tests.
DEV_PII_KEY = "ZGV2LXBpaS1rZXktbm90LWZvci1wcm9kdWN0aW9uISE="


SECRET_BYTES = 32


def _b64(text):
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""


def strong_secret(raw):
    """At least SECRET_BYTES bytes that look random: no entropy meter exists, but a key this long
    with at least half of its length in distinct byte values rules out the typed passwords and
    repeated patterns people try (32 random bytes have ~30 distinct values; token_urlsafe(32) ~30 of
    43 characters)."""
    return len(raw) >= SECRET_BYTES and len(set(raw)) >= SECRET_BYTES // 2


class ConfigError(RuntimeError):
    """The configuration is unusable (raised at start, before serving anything)."""


def _flag(value, default=False):
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("1", "true", "yes", "on")


# Hours from submission within which a ticket must be resolved, per subject (docs/tickets.md "Codes");
# overdue tickets are escalated to the street office. Urgent safety matters first.
TICKET_RESOLUTION_HOURS = {
    "elevator": 48, "fire_lane": 24, "security": 24, "utilities": 48, "sanitation": 72, "parking": 72,
    "noise": 72, "pets": 72, "greenery": 168, "illegal_construction": 360, "other": 168,
}


def _pairs(name, value):
    """"a=1, b=2" → {"a": "1", "b": "2"}; a malformed item stops the start."""
    result = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        key, sep, val = (s.strip() for s in item.partition("="))
        if not sep or not key or not val:
            raise ConfigError(f"{name}: bad item {item!r} (expected key=value)")
        result[key] = val
    return result


def _hours_by_subject(value):
    """The defaults above with "elevator=24, noise=48" applied on top."""
    result = dict(TICKET_RESOLUTION_HOURS)
    for key, hours in _pairs("TICKET_RESOLUTION_HOURS", value).items():
        if key not in result or not hours.isdigit() or int(hours) < 1:
            raise ConfigError(f"TICKET_RESOLUTION_HOURS: bad item {key}={hours} (subject=positive hours)")
        result[key] = int(hours)
    return result


def _level_days(value):
    """"15,30,30,60" → (15, 30, 30, 60): four positive whole numbers of days."""
    days = [part.strip() for part in value.split(",")]
    if len(days) != 4 or not all(d.isdigit() and int(d) > 0 for d in days):
        raise ConfigError(f"MEDIATION_LEVEL_DAYS: expected four positive numbers of days, got {value!r}")
    return tuple(int(d) for d in days)


class Config:
    """Settings for one app instance; `from_env` reads the environment, tests pass overrides."""

    def __init__(self, env=None, **overrides):
        env = dict(os.environ if env is None else env)
        self.ENV = env.get("LINLI_ENV", "development")
        instance = Path(env.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))
        self.INSTANCE_PATH = str(instance)
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or f"sqlite:///{instance / 'linli.db'}"
        # Threads per gunicorn worker (gunicorn.conf.py; gunicorn's gthread worker when more than 1).
        # Casts into one vote that reach a worker together share one transaction and one durable
        # commit (backend/services/votes/casting.py, GroupCommit; docs/votes.md "Group commit").
        self.WORKER_THREADS = int(env.get("LINLI_THREADS") or 8)
        self.SECRET_KEY = env.get("SECRET_KEY", DEV_SECRET)
        # The key tokens were signed with before the last rotation: still accepted, never used to sign
        # (docs/architecture.md "Rotating the keys").
        self.SECRET_KEY_PREVIOUS = env.get("SECRET_KEY_PREVIOUS", "")
        self.PII_KEY = env.get("PII_KEY", DEV_PII_KEY)
        self.SIGNING_KEY_FILE = env.get("SIGNING_KEY_FILE", str(instance / "signing_key.pem"))
        self.MEDIA_ROOT = env.get("MEDIA_ROOT", str(instance / "media"))
        self.S3_BUCKET = env.get("S3_BUCKET", "")
        self.S3_ENDPOINT_URL = env.get("S3_ENDPOINT_URL", "")
        self.S3_ACCESS_KEY_ID = env.get("S3_ACCESS_KEY_ID", "")
        self.S3_SECRET_ACCESS_KEY = env.get("S3_SECRET_ACCESS_KEY", "")
        self.S3_REGION = env.get("S3_REGION", "us-east-1")
        self.WECHAT_APPID = env.get("WECHAT_APPID", "wx-dev-appid")
        self.WECHAT_SECRET = env.get("WECHAT_SECRET", "wx-dev-secret")
        self.WECHAT_API_BASE = env.get("WECHAT_API_BASE", "https://api.weixin.qq.com/")
        # The built-in fake WeChat: on by default in development when no real base is configured.
        self.WECHAT_DEV_FAKE = _flag(
            env.get("WECHAT_DEV_FAKE"),
            default=self.ENV == "development" and "WECHAT_API_BASE" not in env,
        )
        # Subscribe-message template ids per notification event ("ticket_reply=AbC…,vote_opened=XyZ…");
        # an event without one is sent with its event name as the template id (the fake accepts any).
        self.WECHAT_TEMPLATES = _pairs("WECHAT_TEMPLATES", env.get("WECHAT_TEMPLATES", ""))
        self.WECHAT_TIMEOUT = float(env.get("WECHAT_TIMEOUT", "5"))
        self.TOKEN_TTL_SECONDS = int(env.get("TOKEN_TTL_SECONDS", str(7 * 24 * 3600)))
        # The web console (docs/console.md): how long a session signed in by QR code lasts, and how
        # long its QR challenge may wait for the phone.
        self.CONSOLE_SESSION_HOURS = int(env.get("CONSOLE_SESSION_HOURS", "12"))
        self.CONSOLE_CHALLENGE_SECONDS = int(env.get("CONSOLE_CHALLENGE_SECONDS", "120"))
        self.MAX_CONTENT_LENGTH = int(env.get("MAX_CONTENT_LENGTH", str(10 * 1024 * 1024)))
        # Media (docs/media.md): pixel cap checked from the header before decoding, output long sides,
        # uploads per user per minute (counted in the database, shared by all workers).
        self.MEDIA_MAX_PIXELS = int(env.get("MEDIA_MAX_PIXELS", str(40_000_000)))
        self.MEDIA_MAX_SIDE = int(env.get("MEDIA_MAX_SIDE", "2560"))
        self.MEDIA_THUMB_SIDE = int(env.get("MEDIA_THUMB_SIDE", "360"))
        self.MEDIA_UPLOADS_PER_MINUTE = int(env.get("MEDIA_UPLOADS_PER_MINUTE", "30"))
        # The memory a worker's uploads may take at once (decodes and PDF inspections, by their estimated
        # peak), the share of it one user may hold, and how long a request waits for room before a 503.
        self.MEDIA_DECODE_BUDGET_MB = int(env.get("MEDIA_DECODE_BUDGET_MB", "512"))
        self.MEDIA_DECODE_USER_SHARE = float(env.get("MEDIA_DECODE_USER_SHARE", "0.5"))
        self.MEDIA_DECODE_WAIT_SECONDS = float(env.get("MEDIA_DECODE_WAIT_SECONDS", "10"))
        # PDFs are parsed in a child process limited to this much memory (address space) and CPU time.
        self.MEDIA_PDF_MEMORY_MB = int(env.get("MEDIA_PDF_MEMORY_MB", "256"))
        self.MEDIA_PDF_CPU_SECONDS = int(env.get("MEDIA_PDF_CPU_SECONDS", "10"))
        # Ownership claims (docs/decisions.md "Claims"): per user per hour, per community per minute,
        # and how many of a user's claims may wait for review at once.
        self.CLAIMS_PER_USER_PER_HOUR = int(env.get("CLAIMS_PER_USER_PER_HOUR", "10"))
        self.CLAIMS_PER_COMMUNITY_PER_MINUTE = int(env.get("CLAIMS_PER_COMMUNITY_PER_MINUTE", "60"))
        self.CLAIMS_PENDING_PER_USER = int(env.get("CLAIMS_PENDING_PER_USER", "3"))
        self.VOTE_MIN_HOURS = int(env.get("VOTE_MIN_HOURS", "0" if self.ENV != "production" else "72"))
        # Tickets (docs/tickets.md "Deadlines"): hours to accept, per-subject hours to resolve ("elevator=24,noise=48" overrides
        # the defaults above), days the resident has to confirm or reopen a resolved ticket.
        self.TICKET_ACCEPT_HOURS = int(env.get("TICKET_ACCEPT_HOURS", "24"))
        self.TICKET_RESOLUTION_HOURS = _hours_by_subject(env.get("TICKET_RESOLUTION_HOURS", ""))
        self.TICKET_CONFIRM_DAYS = int(env.get("TICKET_CONFIRM_DAYS", "7"))
        # The mediation ladder (docs/district.md): days each of the four levels has before the next
        # may take a dispute up — the committee, the community's people's mediation committee, the
        # street's joint meeting, the district centre.
        self.MEDIATION_LEVEL_DAYS = _level_days(env.get("MEDIATION_LEVEL_DAYS", "15,30,30,60"))
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False
        # JSON is UTF-8 without \uXXXX escapes: miniprogram_api/api.py JSONProvider (Flask 3 has no
        # JSON_AS_ASCII setting any more).
        # flask-smorest / OpenAPI: the contract clients are generated from (docs/errors.md, and
        # miniprogram_api/operations.py for the operationIds)
        self.API_TITLE = "Linli API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/api/v1"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.API_SPEC_OPTIONS = {
            # relative: the server that serves this document (paths start with /api/v1)
            "servers": [{"url": "/", "description": "the server that serves this document"}],
            "info": {"description": (
                "The API of the Linli mini-program. Every error is "
                '`{"error": {"code", "message", "details"}}` (schema `Error`) with a Chinese `message`; '
                "each operation lists the codes it can answer, and docs/errors.md what each means. "
                "Bearer tokens come from `POST /api/v1/auth/wechat-login`.")},
        }
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        # Swagger UI's files are served by this server from the swagger-ui-bundle package (a relative
        # URL: /api/v1/docs/static/, whatever prefix a proxy adds), so the page works without internet;
        # no validator badge either, which Swagger UI would fetch from swagger.io.
        self.OPENAPI_SWAGGER_UI_URL = "docs/static/"
        self.OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None}
        for key, value in overrides.items():
            setattr(self, key, value)

    def validate(self):
        """Refuse to start production with development secrets or without WeChat credentials."""
        if self.ENV != "production":
            return
        problems = []
        if not self.SECRET_KEY or self.SECRET_KEY == DEV_SECRET:
            problems.append("SECRET_KEY must be set to a non-default value")
        elif not strong_secret(self.SECRET_KEY.encode()):
            problems.append(f"SECRET_KEY must hold at least {SECRET_BYTES} random bytes, e.g. "
                            "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
        if not self.PII_KEY or self.PII_KEY == DEV_PII_KEY:
            problems.append("PII_KEY must be set to a non-default value")
        elif not strong_secret(_b64(self.PII_KEY)):
            problems.append(f"PII_KEY must be base64 of at least {SECRET_BYTES} random bytes, e.g. "
                            "python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'")
        if self.SECRET_KEY_PREVIOUS and not strong_secret(self.SECRET_KEY_PREVIOUS.encode()):
            problems.append("SECRET_KEY_PREVIOUS, when set, must be as strong as SECRET_KEY")
        if self.WECHAT_APPID in ("", "wx-dev-appid") or self.WECHAT_SECRET in ("", "wx-dev-secret"):
            problems.append("WECHAT_APPID and WECHAT_SECRET must be set")
        if self.WECHAT_DEV_FAKE:
            problems.append("WECHAT_DEV_FAKE must be off in production")
        if problems:
            raise ConfigError("; ".join(problems))

    def as_mapping(self):
        """The settings as a dict for app.config."""
        mapping = {k: v for k, v in vars(self).items() if k.isupper()}
        if ":memory:" not in self.SQLALCHEMY_DATABASE_URI and self.SQLALCHEMY_DATABASE_URI != "sqlite://":
            # Each of a worker's threads holds at most one connection at a time: keep that many in
            # the pool, or every request beyond its size would open and close a connection of its own
            # (on PostgreSQL, a new server process each time). pool_pre_ping: a connection that died
            # while pooled (the server restarted, the backend was terminated) is replaced when it is
            # next taken, so the pool recovers without a restart of the workers.
            mapping.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": max(5, self.WORKER_THREADS + 2),
                                                             "pool_pre_ping": True})
        return mapping
