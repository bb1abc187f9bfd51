"""The five disclosures and the half-yearly public-revenue statements (docs/disclosures.md "Five
disclosures"): structured content, published as immutable, numbered, server-signed versions.

One versioning mechanism serves both: a series is (community, kind, series); the five disclosures
have one series per kind (series ""), revenue statements one per half-year (series = period).
Each version records its author, time, the SHA-256 of its canonical content and the server's
signature over the publication statement (`statement`, documented in docs/disclosures.md).
"""
import hashlib

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from backend import signing
from backend.errors import Conflict, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding, Part
from backend.models.base import utcnow
from backend.models.disclosure import DISCLOSURE_KINDS, REVENUE_KIND, PublishedVersion
from backend.pagination import paginate
from backend.security import require_community
from backend.services import apportionment, content_diff, media
from backend.services.disclosure_content import load_content, nfc, rounding_rule
from voting.canonical import CanonicalError, canonical, check_canonical, format_time

KIND_TITLES = {
    "service_content": "服务内容",
    "service_standard": "服务标准",
    "fee_items": "收费项目",
    "fee_standards": "收费标准",
    "utility_apportionment": "公共水电费分摊",
    REVENUE_KIND: "公共收益收支",
}
# Who publishes what (docs/disclosures.md): the property company the disclosures, the committee the revenue.
PUBLISHERS = {**{kind: ("property_staff",) for kind in DISCLOSURE_KINDS}, REVENUE_KIND: ("committee",)}
ATTACHED_TYPE = "disclosure_version"
# Attachments of a published version: whoever may read the version (anyone of its community).
media.register_visibility(ATTACHED_TYPE, media.visible_to_community_of(PublishedVersion))
STATEMENT_TYPE = "linli-publication/1"
MONTHLY_BASES = ("per_m2_month", "per_part_month")
FEE_ROUNDING = "area (0.01 m²) × price (fen per m² per month) / 100, rounded half up to the fen"


# ---------------------------------------------------------------- the versioning mechanism


def content_sha256(content):
    """Lowercase hex SHA-256 of the canonical JSON of the content."""
    return hashlib.sha256(canonical(content)).hexdigest()


def statement(version):
    """The object the server signs for a version (its signature is stored beside it)."""
    return {
        "type": STATEMENT_TYPE,
        "community_id": version.community_id,
        "kind": version.kind,
        "series": version.series,
        "version": version.version,
        "content_sha256": version.content_sha256,
        "previous_sha256": version.previous_sha256,
        "published_at": format_time(version.published_at),
        "author_id": version.author_id,
        "note": version.note,
        "attachments": version.attachments,
    }


def signed_statement(version):
    """The statement with its server signature, verifiable with the server's public key."""
    return {**statement(version), "signature": version.signature}


def _latest(community_id, kind, series=""):
    return db.session.execute(
        db.select(PublishedVersion).filter_by(community_id=community_id, kind=kind, series=series)
        .order_by(PublishedVersion.version.desc()).limit(1)
    ).scalar_one_or_none()


def _publish(user, community_id, kind, series, content, note, attachment_ids):
    """Insert the next version of a series, attach its files, sign it, commit."""
    note = nfc(note.strip()) if note and note.strip() else None
    try:
        check_canonical(note)
    except CanonicalError:
        raise Invalid({"note": ["含有无法识别的字符"]}) from None
    previous = _latest(community_id, kind, series)
    digest = content_sha256(content)
    if previous is not None and previous.content_sha256 == digest and not attachment_ids:
        # A double tap on the phone must not publish the same thing twice.
        raise Conflict("version_unchanged", "内容与当前版本相同，无需重新发布",
                       details={"version": previous.version})
    version = PublishedVersion(
        community_id=community_id, kind=kind, series=series, content=content, content_sha256=digest,
        version=(previous.version + 1) if previous else 1,
        previous_sha256=previous.content_sha256 if previous else None,
        note=note, attachments=[], author_id=user.id,
        published_at=utcnow().replace(microsecond=0), signature="",
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        # Two publishers took the same number at once: the unique key refused the second.
        db.session.rollback()
        raise Conflict("version_conflict", "有人同时发布了新版本，请刷新后重试") from None
    files = media.attach(user, attachment_ids, community_id, ATTACHED_TYPE, version.id, allow_pdf=True,
                         field="attachment_ids")
    version.attachments = [{"media_id": m.id, "sha256": m.sha256} for m in files]
    version.signature = signing.sign(statement(version))["signature"]
    db.session.commit()
    return version


def _series_query(community_id, kind, series):
    return db.select(PublishedVersion).filter_by(community_id=community_id, kind=kind, series=series)


def _version(community_id, kind, series, number):
    version = db.session.execute(_series_query(community_id, kind, series).filter_by(version=number)).scalar_one_or_none()
    if version is None:
        raise NotFound("version_not_found", f"{KIND_TITLES[kind]}没有第 {number} 版")
    return version


def _versions_page(community_id, kind, series, page, per_page):
    return paginate(_series_query(community_id, kind, series).order_by(PublishedVersion.version.desc()),
                    page, per_page)


def _diff(community_id, kind, series, from_version, to_version):
    old = _version(community_id, kind, series, from_version)
    new = _version(community_id, kind, series, to_version)
    return {"kind": kind, "series": series, "from": old, "to": new,
            "changes": content_diff.diff(old.content, new.content)}


# ---------------------------------------------------------------- the five disclosures


def _disclosure_kind(kind):
    if kind not in DISCLOSURE_KINDS:
        raise NotFound("disclosure_kind_not_found", "没有这一类公开信息")


def publish_disclosure(user, community_id, kind, content, note=None, attachment_ids=None):
    """Publish the next version of one of the five disclosures (property staff)."""
    if kind not in DISCLOSURE_KINDS:
        raise Invalid({"kind": [f"须为以下之一：{', '.join(DISCLOSURE_KINDS)}"]})
    require_community(user, community_id, *PUBLISHERS[kind])
    data = load_content(kind, content)
    data = CHECKS.get(kind, lambda cid, d: d)(community_id, data)
    return _publish(user, community_id, kind, "", data, note, attachment_ids)


def current_disclosures(user, community_id):
    """The current version (or None) of each of the five kinds, in the order of docs/disclosures.md."""
    require_community(user, community_id)
    return {"community_id": community_id,
            "kinds": [{"kind": kind, "title": KIND_TITLES[kind], "current": _latest(community_id, kind)}
                      for kind in DISCLOSURE_KINDS]}


def disclosure_versions(user, community_id, kind, page=1, per_page=20):
    """The versions of one disclosure, newest first."""
    require_community(user, community_id)
    _disclosure_kind(kind)
    return _versions_page(community_id, kind, "", page, per_page)


def disclosure_version(user, community_id, kind, number):
    """One version of a disclosure, with its content."""
    require_community(user, community_id)
    _disclosure_kind(kind)
    return _version(community_id, kind, "", number)


def disclosure_diff(user, community_id, kind, from_version, to_version):
    """Field-by-field changes between two versions of a disclosure."""
    require_community(user, community_id)
    _disclosure_kind(kind)
    return _diff(community_id, kind, "", from_version, to_version)


# ---------------------------------------------------------------- registry checks per kind


def _active_parts(community_id):
    return db.session.execute(
        db.select(Part).filter_by(community_id=community_id).where(Part.removed_at.is_(None)).order_by(Part.id)
    ).scalars().all()


def _check_buildings(names, known, path):
    """422 naming each building (path.format(i)) that is not in the registry."""
    errors = {path.format(i): ["登记册中没有该楼栋"] for i, name in enumerate(names) if name not in known}
    if errors:
        raise Invalid(errors)


def _check_fee_standards(community_id, data):
    """Buildings must be in the registry; every priced item must be a published fee item."""
    known = {p.building for p in _active_parts(community_id)}
    _check_buildings([b["building"] for b in data.get("buildings", [])], known, "content.buildings.{}.building")
    data["buildings"] = [{"building": b["building"], "type": b["type"]} for b in data.get("buildings", [])]
    current_items = _latest(community_id, "fee_items")
    codes = {item["code"] for item in current_items.content["items"]} if current_items else set()
    errors = {f"content.prices.{i}.item_code": [f"收费项目 {p['item_code']} 不在当前公开的收费项目中"]
              for i, p in enumerate(data["prices"]) if p["item_code"] not in codes}
    if errors:
        raise Invalid(errors)
    return data


def _check_apportionment(community_id, data):
    """Resolve the parts, compute or check the shares; the stored content carries every share.

    by_area / equal: the server computes the shares (largest remainder); sent shares must equal
    them. metered: the sent shares are kept; each part once, in scope, summing to the total."""
    parts = _active_parts(community_id)
    scope_names = data.get("buildings", [])
    _check_buildings(scope_names, {p.building for p in parts}, "content.buildings.{}")
    scope = [p for p in parts if not scope_names or p.building in scope_names]
    if not scope:
        raise Invalid({"content.shares": ["登记册中没有可分摊的房屋"]})
    given = _resolve_shares(data.get("shares", []), scope)
    total, method = data["total_fen"], data["method"]
    if given and sum(share for _, share in given) != total:
        raise Invalid({"content.shares": [
            f"各户分摊合计 {sum(s for _, s in given)} 分，与总额 {total} 分不符"]})
    if method == "metered":
        chosen = sorted(given, key=lambda pair: pair[0].id)
    else:
        chosen = list(zip(scope, apportionment.split(total, method, [p.area for p in scope])))
        if given:
            expected = {part.id: share for part, share in chosen}
            errors = {f"content.shares.{i}.amount_fen": [f"按规则应为 {expected[part.id]} 分"]
                      for i, (part, share) in enumerate(given) if expected[part.id] != share}
            if len(given) != len(scope):
                errors["content.shares"] = [f"须包含分摊范围内的全部 {len(scope)} 户，或不填由系统计算"]
            if errors:
                raise Invalid(errors)
    return {**data, "buildings": scope_names, "rounding": rounding_rule(method),
            "shares": [{"part_id": p.id, "label": p.label, "area": p.area, "amount_fen": share} for p, share in chosen]}


def _resolve_shares(shares, scope):
    """[(part, amount_fen)] for the sent shares; 422 naming each share that names no part in scope."""
    by_id, by_label = {p.id: p for p in scope}, {p.label: p for p in scope}
    resolved, errors, seen = [], {}, set()
    for i, share in enumerate(shares):
        part = by_id.get(share["part_id"]) if "part_id" in share else by_label.get(share["label"])
        if part is None or ("label" in share and part.label != share["label"]):
            errors[f"content.shares.{i}.{'part_id' if 'part_id' in share else 'label'}"] = ["分摊范围内没有该房屋"]
        elif part.id in seen:
            errors[f"content.shares.{i}.part_id"] = ["同一房屋重复出现"]
        elif "area" in share and share["area"] != part.area:
            errors[f"content.shares.{i}.area"] = [f"与登记面积 {part.area} 不符"]
        else:
            seen.add(part.id)
            resolved.append((part, share["amount_fen"]))
    if errors:
        raise Invalid(errors)
    return resolved


CHECKS = {"fee_standards": _check_fee_standards, "utility_apportionment": _check_apportionment}


# ---------------------------------------------------------------- an owner's fees


def my_fees(user, community_id):
    """The caller's monthly fees per verified part, from its area and the current fee standards,
    and its share of the latest utility apportionment."""
    require_community(user, community_id, "owner")
    parts = db.session.execute(
        db.select(Part).join(Binding, Binding.part_id == Part.id)
        .where(Binding.user_id == user.id, Binding.community_id == community_id, Binding.status == "verified",
               Part.removed_at.is_(None))
        .distinct().order_by(Part.id)
    ).scalars().all()
    standards = _latest(community_id, "fee_standards")
    items = _latest(community_id, "fee_items")
    latest_split = _latest(community_id, "utility_apportionment")
    shares = {s["part_id"]: s["amount_fen"] for s in latest_split.content["shares"]} if latest_split else {}
    catalogue = {i["code"]: i for i in items.content["items"]} if items else {}
    result = []
    for part in parts:
        building_type = _building_type(standards.content, part.building) if standards else None
        fees = []
        for price in (standards.content["prices"] if standards else []):
            item = catalogue.get(price["item_code"])
            # per_use items are not monthly; items withdrawn from the catalogue are no longer charged.
            if price["building_type"] != building_type or item is None or item["basis"] not in MONTHLY_BASES:
                continue
            amount = (apportionment.monthly_fee(part.area, price["price_fen"]) if item["basis"] == "per_m2_month"
                      else price["price_fen"])
            fees.append({"code": item["code"], "name": item["name"], "basis": item["basis"],
                         "mandatory": item["mandatory"], "price_fen": price["price_fen"], "monthly_fen": amount})
        result.append({"part_id": part.id, "label": part.label, "area": part.area, "building_type": building_type,
                       "fees": fees, "monthly_total_fen": sum(f["monthly_fen"] for f in fees),
                       "apportionment_fen": shares.get(part.id)})
    return {
        "community_id": community_id,
        "rounding": FEE_ROUNDING,
        "fee_items_version": items.version if items else None,
        "fee_standards": standards,
        "apportionment": latest_split,
        "parts": result,
        "monthly_total_fen": sum(p["monthly_total_fen"] for p in result),
        "apportionment_total_fen": sum(p["apportionment_fen"] or 0 for p in result),
    }


def _building_type(content, building):
    """The building's type as the fee standards list it, else their default type."""
    listed = {b["building"]: b["type"] for b in content.get("buildings", [])}
    return listed.get(building, content["default_building_type"])


# ---------------------------------------------------------------- public-revenue statements


def publish_revenue_statement(user, community_id, content, note=None, attachment_ids=None):
    """Publish a half-year's public-revenue statement, or the next version of it (committee)."""
    require_community(user, community_id, *PUBLISHERS[REVENUE_KIND])
    data = load_content(REVENUE_KIND, content)
    return _publish(user, community_id, REVENUE_KIND, data["period"], data, note, attachment_ids)


def revenue_statements(user, community_id, page=1, per_page=20):
    """The current version of each half-year's statement, latest period first."""
    require_community(user, community_id)
    newest = (db.select(PublishedVersion.series, func.max(PublishedVersion.version).label("version"))
              .where(PublishedVersion.community_id == community_id, PublishedVersion.kind == REVENUE_KIND)
              .group_by(PublishedVersion.series).subquery())
    query = (db.select(PublishedVersion)
             .join(newest, (PublishedVersion.series == newest.c.series) & (PublishedVersion.version == newest.c.version))
             .where(PublishedVersion.community_id == community_id, PublishedVersion.kind == REVENUE_KIND)
             .order_by(PublishedVersion.series.desc()))
    return paginate(query, page, per_page)


def revenue_statement_versions(user, community_id, period, page=1, per_page=20):
    """The versions of one half-year's statement, newest first."""
    require_community(user, community_id)
    result = _versions_page(community_id, REVENUE_KIND, period, page, per_page)
    if result["total"] == 0:
        raise NotFound("revenue_statement_not_found", f"没有 {period} 的公共收益收支公示")
    return result


def revenue_statement_version(user, community_id, period, number):
    """One version of a half-year's statement."""
    require_community(user, community_id)
    return _version(community_id, REVENUE_KIND, period, number)


def revenue_statement_diff(user, community_id, period, from_version, to_version):
    """Field-by-field changes between two versions of a half-year's statement."""
    require_community(user, community_id)
    return _diff(community_id, REVENUE_KIND, period, from_version, to_version)
