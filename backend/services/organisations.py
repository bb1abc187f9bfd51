"""The district's organisations (issue 15, docs/district.md): streets and the communities in them,
regulator scopes, property companies with their project managers, lift maintenance contractors,
and which organisation served which compound from when to when (history kept).

Who may do what: platform admins make streets, place communities in them and grant scopes; the
district (a district scope, or a platform admin) registers organisations and their managers; a
regulator of a community records its service contracts. A scope gives `regulator` and nothing else
(security.roles_in)."""
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import ValidationError as NumberInvalid

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Community, Organisation, ProjectManager, RegulatorScope, ServiceContract, Street
from backend.models.district import ORGANISATION_KINDS, SERVICES
from backend.security import encrypt_pii, require_community, require_platform_admin, require_street, scopes_of
from backend.services import identity
from backend.services.keyset import keyset

COORDINATE_LIMITS = {"latitude": 90_000_000, "longitude": 180_000_000}


def _text(value):
    return (value or "").strip()


# ---------------------------------------------------------------- streets and scopes


def create_street(actor, name):
    """A new street office (platform admins)."""
    require_platform_admin(actor)
    street = Street(name=_text(name))
    db.session.add(street)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("street_exists", "同名街道已存在") from None
    return street


def get_street(street_id):
    """A street or 404."""
    street = db.session.get(Street, street_id)
    if street is None:
        raise NotFound("street_not_found", "街道不存在")
    return street


def list_streets(actor):
    """Every street with its number of communities (regulators of any scope, platform admins); a
    street regulator's own streets are marked `mine`."""
    require_regulator(actor)
    streets = scopes_of(actor)
    counts = dict(db.session.execute(
        db.select(Community.street_id, db.func.count()).where(Community.street_id.is_not(None))
        .group_by(Community.street_id)).all())
    return [{"street": s, "communities": counts.get(s.id, 0), "mine": streets is None or s.id in streets}
            for s in db.session.execute(db.select(Street).order_by(Street.id)).scalars()]


def _regulates_anything(actor):
    from backend.models import Membership

    return db.session.execute(db.select(Membership.id).filter_by(user_id=actor.id, role="regulator")
                              .limit(1)).first() is not None


def place_community(actor, community_id, street_id, latitude=None, longitude=None):
    """Put a community in a street (None: in none) with its position (platform admins)."""
    require_platform_admin(actor)
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound("community_not_found", "小区不存在")
    if street_id is not None:
        get_street(street_id)
    community.street_id = street_id
    community.lat_e6 = parse_coordinate(latitude, "latitude")
    community.lng_e6 = parse_coordinate(longitude, "longitude")
    db.session.commit()
    return community


def parse_coordinate(text, field):
    """'31.230416' → 31230416 (millionths of a degree, exact: no float); None stays None."""
    if text is None:
        return None
    text = str(text).strip()
    sign = -1 if text.startswith("-") else 1
    whole, _, fraction = text.lstrip("+-").partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 6:
        raise Invalid({field: ["须为十进制度数，最多 6 位小数"]})
    value = sign * (int(whole) * 1_000_000 + int((fraction or "0").ljust(6, "0")))
    if abs(value) > COORDINATE_LIMITS[field]:
        raise Invalid({field: ["超出范围"]})
    return value


def format_coordinate(value):
    """31230416 → '31.230416'."""
    if value is None:
        return None
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 1_000_000}.{abs(value) % 1_000_000:06d}"


def grant_scope(actor, street_id=None, user_id=None, openid=None):
    """Make a user the regulator of a street, or of the district with street_id None (platform
    admins). A user not yet known is created by openid, as members are."""
    require_platform_admin(actor)
    if (openid is None) == (user_id is None):
        raise Invalid({"openid": ["openid 与 user_id 须且只须提供一个"]})
    if street_id is not None:
        get_street(street_id)
    user = identity.named_user(openid, user_id)
    scope = RegulatorScope(user_id=user.id, street_id=street_id, created_by=actor.id,
                           scope_key="district" if street_id is None else f"street:{street_id}")
    db.session.add(scope)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("scope_exists", "该用户已拥有此监管范围") from None
    return scope


def list_scopes(actor):
    """Every regulator scope (platform admins)."""
    require_platform_admin(actor)
    return db.session.execute(db.select(RegulatorScope).order_by(RegulatorScope.id)).scalars().all()


def revoke_scope(actor, scope_id):
    """Take a scope away (platform admins)."""
    require_platform_admin(actor)
    scope = db.session.get(RegulatorScope, scope_id)
    if scope is None:
        raise NotFound("scope_not_found", "监管范围不存在")
    db.session.delete(scope)
    db.session.commit()


def street_communities(actor, street_id, after=None, limit=50):
    """The communities of a street (its regulators, the district), by id, a keyset page."""
    get_street(street_id)
    require_street(actor, street_id)
    query = db.select(Community).where(Community.street_id == street_id)
    return keyset(query, Community.id, after, limit)


# ---------------------------------------------------------------- organisations


def validate_uscc(text):
    """The unified social credit code normalised (upper case, no spaces), or 422: 18 characters of
    GB 32100's alphabet whose last is the check character over the first 17 (python-stdnum)."""
    try:
        return uscc_number.validate(text or "")
    except NumberInvalid:
        raise Invalid({"uscc": ["统一社会信用代码无效（GB 32100 校验不通过）"]}) from None


def create_organisation(actor, kind, name, uscc):
    """Register a property company or a lift contractor (the district: a district scope or admin)."""
    require_street(actor, None)
    if kind not in ORGANISATION_KINDS:
        raise Invalid({"kind": [f"须为 {', '.join(ORGANISATION_KINDS)} 之一"]})
    organisation = Organisation(kind=kind, name=_text(name), uscc=validate_uscc(uscc), created_by=actor.id)
    db.session.add(organisation)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("uscc_taken", "该统一社会信用代码已登记") from None
    return organisation


def get_organisation(organisation_id):
    """An organisation or 404 (its record is public: docs/integrity.md)."""
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("organisation_not_found", "企业不存在")
    return organisation


def require_regulator(actor):
    """Any regulator (a membership or a scope anywhere) or a platform admin: who may read the
    organisations' registry with its non-public parts."""
    streets = scopes_of(actor)
    if streets is None or streets or _regulates_anything(actor):
        return
    raise Forbidden("forbidden", "您没有此操作的权限")


def list_organisations(actor, kind=None, q=None, after=None, limit=50):
    """Organisations by id, a keyset page; `q` matches the name or the code (regulators)."""
    require_regulator(actor)
    return _organisations_page(kind, q, after, limit)


def _organisations_page(kind, q, after, limit):
    query = db.select(Organisation)
    if kind:
        query = query.where(Organisation.kind == kind)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Organisation.name.like(pattern, escape="\\"), Organisation.uscc == q.upper()))
    return keyset(query, Organisation.id, after, limit)


def add_manager(actor, organisation_id, name, phone=None):
    """A property company's project manager (the district)."""
    require_street(actor, None)
    organisation = get_organisation(organisation_id)
    if organisation.kind != "property_company":
        raise Invalid({"organisation_id": ["只有物业服务企业有项目经理"]})
    manager = ProjectManager(organisation_id=organisation_id, name=_text(name), phone_enc=encrypt_pii(phone or None))
    db.session.add(manager)
    db.session.commit()
    return manager


def list_managers(actor, organisation_id):
    """A company's project managers (regulators: personal data, never public)."""
    require_regulator(actor)
    get_organisation(organisation_id)
    return db.session.execute(db.select(ProjectManager).filter_by(organisation_id=organisation_id)
                              .order_by(ProjectManager.id)).scalars().all()


# ---------------------------------------------------------------- who serves which compound


def record_contract(actor, community_id, organisation_id, service, starts_on, ends_on=None, manager_id=None):
    """From `starts_on` the organisation serves the compound (a regulator of the community). The
    contract of the same service running then ends that day; a later one or an overlap is refused,
    so the history is one unbroken line per service."""
    require_community(actor, community_id, "regulator")
    organisation = get_organisation(organisation_id)
    if SERVICES.get(service) != organisation.kind:
        raise Invalid({"organisation_id": [f"{service} 服务须由 {SERVICES.get(service, '?')} 提供"]})
    if ends_on is not None and ends_on <= starts_on:
        raise Invalid({"ends_on": ["须晚于 starts_on"]})
    if manager_id is not None:
        manager = db.session.get(ProjectManager, manager_id)
        if manager is None or manager.organisation_id != organisation_id:
            raise Invalid({"manager_id": ["须为该企业的项目经理"]})
    rows = db.session.execute(db.select(ServiceContract).filter_by(community_id=community_id, service=service)
                              .order_by(ServiceContract.starts_on).with_for_update()).scalars().all()
    for row in rows:
        # Only the running contract may be cut short (it ends where the new one starts); a period that
        # ends after the new start, or starts on or after it, would be rewritten: refused.
        fits = row.starts_on < starts_on if row.ends_on is None else row.ends_on <= starts_on
        if not fits:
            raise Conflict("contract_overlap", "与已登记的服务期重叠，历史记录不能改写",
                           details={"contract_id": row.id})
    current = next((r for r in rows if r.ends_on is None), None)
    if current is not None:
        current.ends_on = starts_on
    contract = ServiceContract(community_id=community_id, organisation_id=organisation_id, service=service,
                               manager_id=manager_id, starts_on=starts_on, ends_on=ends_on, created_by=actor.id)
    db.session.add(contract)
    db.session.commit()
    return contract


def list_contracts(actor, community_id):
    """The compound's service history, newest first (anyone with a role there)."""
    require_community(actor, community_id)
    return db.session.execute(db.select(ServiceContract).filter_by(community_id=community_id)
                              .order_by(ServiceContract.starts_on.desc(), ServiceContract.id.desc())).scalars().all()


def serving(community_id, day, service="property"):
    """The organisation id serving the compound on a China date, or None."""
    return db.session.execute(
        db.select(ServiceContract.organisation_id).where(
            ServiceContract.community_id == community_id, ServiceContract.service == service,
            ServiceContract.starts_on <= day,
            or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > day))
        .order_by(ServiceContract.starts_on.desc()).limit(1)).scalar_one_or_none()


def contracts_overlapping(start, end, organisation_id=None, manager_id=None, service=None):
    """Contracts that run on some day of [start, end) (China dates)."""
    query = db.select(ServiceContract).where(ServiceContract.starts_on < end,
                                             or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > start))
    if organisation_id is not None:
        query = query.where(ServiceContract.organisation_id == organisation_id)
    if manager_id is not None:
        query = query.where(ServiceContract.manager_id == manager_id)
    if service is not None:
        query = query.where(ServiceContract.service == service)
    return db.session.execute(query.order_by(ServiceContract.id)).scalars().all()


def china_today(now):
    """The China date of a UTC time."""
    from backend.services.tickets import CHINA

    return now.astimezone(CHINA).date()

