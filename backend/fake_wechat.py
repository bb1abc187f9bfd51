"""A fake of the WeChat server API on 127.0.0.1, for the tests and the development run.

It is a real HTTP server in a thread, so wechatpy talks to it exactly as to WeChat. Endpoints:
`cgi-bin/token`, `sns/jscode2session`, `wxa/business/getuserphonenumber`,
`cgi-bin/message/subscribe/send`, each answering with WeChat's real error codes.

Codes it understands (what the mini-program would get from wx.login / getPhoneNumber):
- login code `code-<openid>` → that openid (one use; the second use gives 40163);
- phone code `phone-<11 digits>` → that phone number (one use).
Like wx.login, a client gets a fresh code each time by adding `~<anything>`: `code-alice~2`.
Anything else is 40029 (invalid code).
"""
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit mustslower retry next minute",
}


class FakeWechat:
    """State and controls of the fake: tokens, used codes, injected failures, sent messages."""

    def __init__(self, appid="wx-dev-appid", secret="wx-dev-secret"):
        self.appid = appid
        self.secret = secret
        self.lock = threading.Lock()
        self.tokens = set()
        self.used_codes = set()
        self.failures = {}  # path → list of errcodes to return, one per call
        self.delay = 0.0
        self.declined = set()  # openids that refuse subscribe messages (43101)
        self.messages = []
        self.calls = []
        self.token_fetches = 0
        self._server = None

    # ---- controls used by tests
    def fail(self, path, errcode, times=1):
        """Make the next `times` calls to `path` (e.g. "sns/jscode2session") answer errcode."""
        with self.lock:
            self.failures.setdefault(path, []).extend([errcode] * times)

    def invalidate_tokens(self):
        """Every access_token handed out so far becomes invalid (40001)."""
        with self.lock:
            self.tokens.clear()

    def reset(self):
        with self.lock:
            self.tokens.clear()
            self.used_codes.clear()
            self.failures.clear()
            self.declined.clear()
            self.messages.clear()
            self.calls.clear()
            self.delay = 0.0
            self.token_fetches = 0

    # ---- server
    def start(self, port=0):
        """Serve on 127.0.0.1 in a daemon thread; returns the base URL (ending in '/')."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body):
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = {}
                if method == "POST":
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        body = {}
                self._answer(fake.dispatch(url.path.lstrip("/"), query, body))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base_url

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---- behaviour
    def _error(self, code):
        return {"errcode": code, "errmsg": ERRMSG.get(code, "error")}

    def _take_code(self, code, prefix):
        if not isinstance(code, str) or not code.startswith(prefix) or len(code) <= len(prefix):
            return None, 40029
        if code in self.used_codes:
            return None, 40163
        self.used_codes.add(code)
        return code[len(prefix):].split("~")[0], 0

    def dispatch(self, path, query, body):
        """Answer one API call as WeChat would."""
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.calls.append(path)
            queued = self.failures.get(path)
            if queued:
                return self._error(queued.pop(0))
            if path == "cgi-bin/token":
                if query.get("appid") != self.appid or query.get("secret") != self.secret:
                    return self._error(40125)
                token = "fake-token-" + secrets.token_hex(8)
                self.tokens.add(token)
                self.token_fetches += 1
                return {"access_token": token, "expires_in": 7200}
            if path == "sns/jscode2session":
                if query.get("appid") != self.appid or query.get("secret") != self.secret:
                    return self._error(40125)
                openid, err = self._take_code(query.get("js_code"), "code-")
                if err:
                    return self._error(err)
                return {
                    "openid": openid,
                    "unionid": "union-" + openid,
                    "session_key": secrets.token_urlsafe(16),
                }
            # Everything below needs a valid access_token.
            if query.get("access_token") not in self.tokens:
                return self._error(40001)
            if path == "wxa/business/getuserphonenumber":
                phone, err = self._take_code(body.get("code"), "phone-")
                if err:
                    return self._error(err)
                return {
                    "errcode": 0,
                    "errmsg": "ok",
                    "phone_info": {
                        "phoneNumber": phone,
                        "purePhoneNumber": phone,
                        "countryCode": "86",
                        "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                    },
                }
            if path == "cgi-bin/message/subscribe/send":
                if body.get("touser") in self.declined:
                    return self._error(43101)
                self.messages.append(body)
                return {"errcode": 0, "errmsg": "ok"}
            return {"errcode": 40066, "errmsg": "invalid url"}


_dev_fake = None


def ensure_dev_fake(appid, secret):
    """Start the one in-process fake for a development run (idempotent); returns its base URL."""
    global _dev_fake
    if _dev_fake is None:
        _dev_fake = FakeWechat(appid, secret)
        _dev_fake.start()
    return _dev_fake.base_url
