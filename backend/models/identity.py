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


class AuthSession(db.Model):
    """The server side of a bearer token: revocable, expiring."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


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
