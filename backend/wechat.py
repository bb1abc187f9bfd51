"""The one place that talks to WeChat's servers, through wechatpy (docs/decisions.md "WeChat").

wechatpy 1.8.18 is the client; this module points every call at WECHAT_API_BASE (the client's and
the wxa API's bases are separate class attributes, and fetch_access_token has a fixed URL), keeps
the access_token in the database so that one worker refreshes it for all (a lease row), refreshes
once on 40001/40014/42001, and turns WeChat failures into clear 4xx/503 errors.
"""
import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from backend.errors import DomainError
from backend.extensions import db
from backend.models import WechatToken
from backend.models.base import utcnow

TOKEN_ERRORS = (40001, 40014, 42001)
LEASE_SECONDS = 30
DECLINED = 43101


class WechatError(DomainError):
    """A WeChat failure as the mini-program should see it."""


def _mapped(errcode, errmsg=None):
    if errcode == 40029:
        return WechatError("wechat_code_invalid", "微信凭证无效，请重试", 400, {"errcode": errcode})
    if errcode == 40163:
        return WechatError("wechat_code_used", "微信凭证已被使用，请重试", 400, {"errcode": errcode})
    if errcode == 45011:
        return WechatError("wechat_rate_limited", "微信接口调用过于频繁，请稍后再试", 429, {"errcode": errcode})
    if errcode == -1:
        return WechatError("wechat_busy", "微信系统繁忙，请稍后再试", 503, {"errcode": errcode})
    if errcode is None:
        return WechatError("wechat_unavailable", "暂时无法连接微信服务，请稍后再试", 503)
    return WechatError("wechat_error", "微信服务返回错误，请稍后再试", 503,
                       {"errcode": errcode, "errmsg": str(errmsg or "")})


class _Client(WeChatClient):
    """wechatpy's client with every URL under WECHAT_API_BASE and the token in the database."""

    def __init__(self, base, appid, secret, timeout):
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        self.base = base
        self.API_BASE_URL = base + "cgi-bin/"
        self.wxa.API_BASE_URL = base

    @property
    def access_token(self):
        return token_store.get(self)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class _TokenStore:
    """access_token shared through the wechat_tokens row; a lease decides who refreshes."""

    def _row(self, appid):
        with db.engine.connect() as conn:
            return conn.execute(db.select(WechatToken.__table__).where(WechatToken.appid == appid)).first()

    def get(self, client, failed=None):
        row = self._row(client.appid)
        now = utcnow()
        if row and row.access_token and row.access_token != failed and row.expires_at - now > timedelta(seconds=60):
            return row.access_token
        return self._refresh(client, failed)

    def _refresh(self, client, failed):
        table = WechatToken.__table__
        now = utcnow()
        if self._row(client.appid) is None:
            try:
                with db.engine.begin() as conn:
                    conn.execute(table.insert().values(appid=client.appid))
            except IntegrityError:
                pass  # another worker created it first
        with db.engine.begin() as conn:
            won = conn.execute(
                update(table)
                .where(table.c.appid == client.appid)
                .where(or_(table.c.refreshing_until.is_(None), table.c.refreshing_until < now))
                .values(refreshing_until=now + timedelta(seconds=LEASE_SECONDS))
            ).rowcount
        if won:
            try:
                result = client.fetch_access_token()
            except Exception:
                with db.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.appid == client.appid).values(refreshing_until=None))
                raise
            token = result["access_token"]
            expires = utcnow() + timedelta(seconds=int(result.get("expires_in", 7200)))
            with db.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.appid == client.appid)
                    .values(access_token=token, expires_at=expires, refreshing_until=None)
                )
            return token
        # Another worker holds the lease: wait for its token rather than invalidating it.
        deadline = time.monotonic() + LEASE_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            row = self._row(client.appid)
            if row and row.access_token and row.access_token != failed and row.refreshing_until is None:
                return row.access_token
        raise WechatError("wechat_busy", "微信系统繁忙，请稍后再试", 503)


token_store = _TokenStore()


def _client():
    cfg = current_app.config
    return _Client(cfg["WECHAT_API_BASE"], cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg["WECHAT_TIMEOUT"])


def _call(fn):
    """Run one WeChat call: refresh the token once on a token error, map failures."""
    client = _client()
    for attempt in (1, 2):
        try:
            return fn(client)
        except WeChatClientException as exc:
            if exc.errcode in TOKEN_ERRORS and attempt == 1:
                token_store.get(client, failed=_last_token(client))
                continue
            raise _mapped(exc.errcode, exc.errmsg) from exc
        except requests.RequestException as exc:
            raise _mapped(None) from exc


def _last_token(client):
    row = token_store._row(client.appid)
    return row.access_token if row else None


def code_to_session(code):
    """wx.login code → {openid, unionid, session_key}."""
    result = _call(lambda c: c.wxa.code_to_session(code))
    if not isinstance(result, dict) or "openid" not in result:
        raise _mapped("unexpected")
    return {"openid": result["openid"], "unionid": result.get("unionid"), "session_key": result.get("session_key")}


def phone_number(code):
    """getPhoneNumber code → the pure phone number WeChat verified."""
    result = _call(lambda c: c.post("wxa/business/getuserphonenumber", api_base_url=c.base, data={"code": code}))
    try:
        return result["phone_info"]["purePhoneNumber"]
    except (TypeError, KeyError):
        raise _mapped("unexpected")


def send_subscribe_message(openid, template_id, data, page=None):
    """Send one subscribe message; returns "sent" or "declined" (43101), raises WechatError otherwise."""
    try:
        _call(lambda c: c.wxa.send_subscribe_message(openid, template_id, data, page))
    except WechatError as exc:
        if exc.details.get("errcode") == DECLINED:
            return "declined"
        raise
    return "sent"
