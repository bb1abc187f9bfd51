"""Communities and their members."""
import marshmallow as ma

from backend.models.community import ROLES
from backend.security import current_user
from backend.services import communities as service
from miniprogram_api.common import BEARER, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("communities", "Communities and roles")


class CommunitySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


class CommunityListItem(ma.Schema):
    """A directory entry: the community (read from the service's {"community", "my_roles"} pair)."""

    id = ma.fields.Integer(required=True, attribute="community.id")
    name = ma.fields.String(required=True, attribute="community.name")
    district = ma.fields.String(required=True, attribute="community.district")
    address = ma.fields.String(required=True, attribute="community.address")
    created_at = UTCDateTime(required=True, attribute="community.created_at")
    my_roles = ma.fields.List(ma.fields.String(), required=True)


class CommunityArgs(Schema):
    name = NonBlank(max=120)
    district = NonBlank(max=120)
    address = NonBlank(max=255)


class CommunityListArgs(PageArgs):
    mine = ma.fields.Boolean(load_default=False)


class MemberArgs(Schema):
    openid = ma.fields.String(validate=ma.validate.Length(min=1, max=64))
    user_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class MemberSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    role = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


CommunityPage = page_schema(CommunityListItem, "CommunityPage")


@blp.route("/communities", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(CommunityListArgs, location="query")
@blp.response(200, CommunityPage)
def list_communities(args):
    """The directory of communities (to find one's own), with the caller's roles; `mine` filters."""
    return service.list_communities(current_user(), **args)


@blp.route("/communities", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(CommunityArgs)
@blp.response(201, CommunitySchema)
def create_community(args):
    """Create a community (platform admin)."""
    return service.create_community(current_user(), **args)


@blp.route("/communities/<int:cid>/members", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(MemberArgs)
@blp.response(201, MemberSchema)
def add_member(args, cid):
    """Give a user a role (platform admin; the committee may add its own property staff)."""
    return service.add_member(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/members/<int:member_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
def remove_member(cid, member_id):
    """Take a role away (platform admin; the committee its own property staff)."""
    service.remove_member(current_user(), cid, member_id)


@blp.route("/communities/<int:cid>/members", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, MemberSchema(many=True))
def list_members(cid):
    """Members and their roles (committee, property staff, regulators)."""
    return service.list_members(current_user(), cid)
