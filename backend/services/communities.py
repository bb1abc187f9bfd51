"""Communities and the roles people hold in them."""
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Community, Membership
from backend.models.community import ROLES
from backend.pagination import paginate
from backend.services import identity
from backend.security import require_community, require_platform_admin, roles_in


def create_community(actor, name, district, address):
    """A new community (platform admins only)."""
    require_platform_admin(actor)
    community = Community(name=name.strip(), district=district.strip(), address=address.strip())
    db.session.add(community)
    db.session.commit()
    return community


def list_communities(user, mine=False, page=1, per_page=20):
    """The directory of communities (name, district, address), or only the caller's with mine=True."""
    query = db.select(Community).order_by(Community.id)
    if mine and not user.is_platform_admin:
        from backend.models import Binding

        ids = db.select(Membership.community_id).filter_by(user_id=user.id).union(
            db.select(Binding.community_id).filter_by(user_id=user.id, status="verified")
        )
        query = query.where(Community.id.in_(ids))
    result = paginate(query, page, per_page)
    result["items"] = [
        {"community": c, "my_roles": sorted(roles_in(user, c.id))} for c in result["items"]
    ]
    return result


def add_member(actor, community_id, role, openid=None, user_id=None):
    """Give a user a role in a community: platform admins any role; the committee may add
    property staff of its own community."""
    if role not in ROLES:
        raise Invalid({"role": [f"角色必须是 {', '.join(ROLES)} 之一"]})
    if not actor.is_platform_admin:
        require_community(actor, community_id, "committee")
        if role != "property_staff":
            raise Forbidden("role_not_grantable", "业委会只能添加本小区的物业人员")
    elif db.session.get(Community, community_id) is None:
        raise NotFound("community_not_found", "小区不存在")
    user = identity.named_user(openid, user_id)
    exists = db.session.execute(
        db.select(Membership).filter_by(user_id=user.id, community_id=community_id, role=role)
    ).scalar_one_or_none()
    if exists:
        raise Conflict("already_member", "该用户已拥有此角色")
    membership = Membership(user_id=user.id, community_id=community_id, role=role, created_by=actor.id)
    db.session.add(membership)
    db.session.commit()
    return membership


def list_members(actor, community_id):
    """Who holds which role (committee, staff and regulators of the community may look)."""
    require_community(actor, community_id, "committee", "property_staff", "regulator")
    return db.session.execute(
        db.select(Membership).filter_by(community_id=community_id).order_by(Membership.id)
    ).scalars().all()


def remove_member(actor, community_id, member_id):
    """Take a role away: platform admins any role; the committee the property staff of its own
    community (the roles it may give). Past records keep the user's id; only the role goes."""
    if not actor.is_platform_admin:
        require_community(actor, community_id, "committee")
    elif db.session.get(Community, community_id) is None:
        raise NotFound("community_not_found", "小区不存在")
    membership = db.session.get(Membership, member_id)
    if membership is None or membership.community_id != community_id:
        raise NotFound("member_not_found", "该成员不存在")
    if not actor.is_platform_admin and membership.role != "property_staff":
        raise Forbidden("role_not_removable", "业委会只能移除本小区的物业人员")
    db.session.delete(membership)
    db.session.commit()
