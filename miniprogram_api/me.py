"""The caller: profile, roles, verified parts and rights, phone verification."""
import marshmallow as ma

from backend.security import current_user, decrypt_pii, mask_phone
from backend.services import bindings as binding_service
from backend.services import identity
from miniprogram_api.common import BEARER, Derived, NonBlank, Schema, UTCDateTime, blueprint

blp = blueprint("me", "The logged-in user")


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    is_platform_admin = ma.fields.Boolean(required=True)
    phone = Derived(ma.fields.String(allow_none=True), lambda user: mask_phone(decrypt_pii(user.phone_enc)),
                    metadata={"description": "masked, 138****1234"})
    phone_verified_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime(required=True)


class PartRefSchema(ma.Schema):
    binding_id = ma.fields.Integer(required=True)
    part_id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})


class RightSchema(ma.Schema):
    right_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})
    heads = ma.fields.Integer(required=True)


class MyCommunitySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    parts = ma.fields.List(ma.fields.Nested(PartRefSchema), required=True)
    rights = ma.fields.List(ma.fields.Nested(RightSchema), required=True)


class MyBindingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True, metadata={"description": "the claimed address, building-unit-room"})
    status = ma.fields.String(required=True)
    method = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)


class MeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    communities = ma.fields.List(ma.fields.Nested(MyCommunitySchema), required=True)
    bindings = ma.fields.List(ma.fields.Nested(MyBindingSchema), required=True)


class PhoneArgs(Schema):
    code = NonBlank(max=128, metadata={"description": "the code from the getPhoneNumber button"})


@blp.route("/me", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, MeSchema)
def me():
    """The user, roles per community, verified parts and voting rights, masked phone."""
    user = current_user()
    result = identity.profile(user)
    result["bindings"] = binding_service.my_bindings(user)
    return result


@blp.route("/me/phone", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(PhoneArgs)
@blp.response(200, UserSchema)
def verify_phone(args):
    """Verify the phone number through WeChat (masked in the reply)."""
    return identity.verify_phone(current_user(), args["code"])
