"""Login with WeChat and logout."""
import marshmallow as ma
from backend.security import current_auth_session
from backend.services import identity
from miniprogram_api.common import BEARER, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.me import UserSchema

blp = blueprint("auth", "WeChat login and bearer tokens")


class LoginArgs(Schema):
    code = NonBlank(max=128, metadata={"description": "the code from wx.login()"})


class LoginResult(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = UTCDateTime(required=True)
    user = ma.fields.Nested(UserSchema, required=True)


@blp.route("/auth/wechat-login", methods=["POST"])
@blp.arguments(LoginArgs)
@blp.response(200, LoginResult)
def wechat_login(args):
    """Exchange a wx.login code for a bearer token."""
    return identity.wechat_login(args["code"])


@blp.route("/auth/logout", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(204)
def logout():
    """Revoke the bearer token of this request."""
    identity.logout(current_auth_session())
