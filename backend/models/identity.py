"""Users, their server-side sessions, and the shared WeChat access_token."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Boolean
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[Optional[str]] = mapped_column(String(64))
    session_key_enc: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    phone_enc: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    phone_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    phone_verified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


SESSION_KINDS = ("miniprogram", "console")


class AuthSession(db.Model):
    """The server side of a bearer token: revocable, expiring. `kind` says where it was signed in:
    the mini-program (wx.login) or the web console (a QR code confirmed in the mini-program)."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="miniprogram", server_default="miniprogram")
    user_agent: Mapped[Optional[str]] = mapped_column(String(255))
    client_ip: Mapped[Optional[str]] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class ConsoleLoginChallenge(db.Model):
    """A one-time QR sign-in to the web console (docs/console.md "Signing in"): the console shows
    `code` as a QR code and polls with its secret; a mini-program user confirms the code; the next
    poll receives a console session of that user, once."""

    __tablename__ = "console_login_challenges"

    code: Mapped[str] = mapped_column(String(43), primary_key=True)
    poll_secret_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | declined | consumed
    origin: Mapped[Optional[str]] = mapped_column(String(255))  # the console's address, shown on the phone
    user_agent: Mapped[Optional[str]] = mapped_column(String(255))
    client_ip: Mapped[Optional[str]] = mapped_column(String(64))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class PhoneVerification(db.Model):
    """Each phone number WeChat vouched for a user (history; the current one is on users)."""

    __tablename__ = "phone_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WechatToken(db.Model):
    """WeChat's access_token, shared by every worker; `refreshing_until` is the refresh lease."""

    __tablename__ = "wechat_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[Optional[str]] = mapped_column(String(512))
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    refreshing_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
