"""The owner registry import: CSV or XLSX from the committee, all or nothing (docs/decisions.md "Registry").

One row per owner of a part; co-owners stand on several rows of the same part. A re-import is a
full replacement: it reports the parts added, changed (area or owner set) and removed. Removed parts
are kept with `removed_at` so that bindings and old votes still resolve; they leave every new roll.
"""
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from backend.errors import Invalid
from backend.extensions import db
from backend.models import Owner, Part, PartOwner, RegistryImport
from backend.models.base import utcnow
from backend.security import encrypt_pii, pii_hash, require_community
from backend.services.identity import PHONE_RE
from backend.services.spreadsheet import read_table

COLUMNS = ("building", "unit", "room", "area_m2", "owner_name", "owner_phone", "owner_id_number", "owner_kind")
REQUIRED = ("building", "unit", "room", "area_m2", "owner_name")
# Headers a committee secretary's sheet is likely to carry, in Chinese.
ALIASES = {
    "楼栋": "building", "楼号": "building", "栋": "building",
    "单元": "unit",
    "房号": "room", "室": "room", "房间号": "room",
    "面积": "area_m2", "建筑面积": "area_m2", "面积(m2)": "area_m2", "面积（㎡）": "area_m2", "面积(㎡)": "area_m2",
    "业主姓名": "owner_name", "姓名": "owner_name",
    "手机号": "owner_phone", "电话": "owner_phone", "手机": "owner_phone",
    "身份证号": "owner_id_number", "身份证号码": "owner_id_number",
    "业主类型": "owner_kind", "类型": "owner_kind",
}
KINDS = {"person": "person", "个人": "person", "": "person", "developer": "developer", "开发商": "developer", "建设单位": "developer"}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")
AREA_RE = re.compile(r"^\d+(\.\d{1,2})?$")
MAX_ROWS = 50_000


def id_check_digit(body):
    """The GB 11643-1999 check character of the first 17 digits of an ID-card number."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def id_number_valid(number):
    """GB 11643-1999: 18 characters, the last a check digit over the first 17 (mod 11)."""
    return bool(ID_RE.match(number)) and id_check_digit(number[:17]) == number[17]


def registry_csv(rows, header=COLUMNS):
    """CSV bytes (UTF-8) of registry rows in `header` order: what a committee's sheet exports."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def area_to_int(value):
    """'89.5' → 8950 (0.01 m²); None when not a positive number with at most two decimals."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # Excel numbers: the shortest decimal that round-trips
    text = str(value).strip()
    if not AREA_RE.match(text):
        return None
    try:
        hundredths = int(Decimal(text) * 100)
    except InvalidOperation:
        return None
    return hundredths if hundredths > 0 else None


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # "3" rather than "3.0" for building numbers typed as numbers
    return unicodedata.normalize("NFC", str(value)).strip()


def read_rows(filename, data):
    """Parse the upload into (row_number, {column: text}); raises Invalid for an unreadable file."""
    # numbers typed into Excel stay numbers (areas), everything else is text
    raw = read_table(filename, data,
                     lambda c: c if isinstance(c, (int, float)) and not isinstance(c, bool) else _cell(c))
    raw = [row for row in raw if any(_cell(c) for c in row)]
    if not raw:
        raise Invalid({"file": ["文件为空"]}, code="empty_file")
    header = [ALIASES.get(_cell(h), _cell(h).lower()) for h in raw[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise Invalid({"file": [f"缺少列：{', '.join(missing)}"]}, code="missing_columns", details={"missing": missing})
    if len(raw) - 1 > MAX_ROWS:
        raise Invalid({"file": [f"行数超过上限 {MAX_ROWS}"]}, code="too_many_rows")
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        record = {}
        for column, value in zip(header, values):
            if column in COLUMNS:
                record[column] = value if column == "area_m2" else _cell(value)
        rows.append((number, record))
    return rows


@dataclass
class _PartRow:
    building: str
    unit: str
    room: str
    area: int
    first_row: int
    owners: list = field(default_factory=list)  # identity keys, in file order


def _validate(rows):
    """Check every row; returns (parts by address, owners by identity key) or raises with every error."""
    errors = []
    parts = {}
    owners = {}

    def err(row, column, message):
        errors.append({"row": row, "field": column, "message": message})

    for number, r in rows:
        ok = True
        for column in REQUIRED:
            if _cell(r.get(column)) == "":
                err(number, column, "必填")
                ok = False
        area = area_to_int(r.get("area_m2"))
        if _cell(r.get("area_m2")) and area is None:
            err(number, "area_m2", "面积须为正数，最多两位小数")
            ok = False
        kind = KINDS.get(_cell(r.get("owner_kind")).lower())
        if kind is None:
            err(number, "owner_kind", "业主类型须为 person 或 developer")
            ok = False
        phone = re.sub(r"[\s-]", "", _cell(r.get("owner_phone")))
        if phone.startswith("+86"):
            phone = phone[3:]
        if phone and not PHONE_RE.match(phone):
            err(number, "owner_phone", "手机号格式不正确")
            ok = False
        id_number = _cell(r.get("owner_id_number")).upper()
        if id_number and not id_number_valid(id_number):
            err(number, "owner_id_number", "身份证号不符合 GB 11643 校验规则")
            ok = False
        if kind == "person" and not phone and not id_number:
            err(number, "owner_phone", "个人业主须提供手机号或身份证号，以便区分同名业主")
            ok = False
        if not ok:
            continue
        name = _cell(r["owner_name"])
        if kind == "developer":
            key = "developer"
        elif id_number:
            key = "id:" + pii_hash(id_number)
        else:
            key = "np:" + pii_hash(normalise_name(name) + "|" + phone)
        known = owners.get(key)
        if known and known["kind"] == "person" and normalise_name(known["name"]) != normalise_name(name):
            err(number, "owner_name", f"与第 {known['row']} 行身份证号相同但姓名不同")
            continue
        if not known:
            owners[key] = {"kind": kind, "name": name, "phone": phone or None, "id_number": id_number or None,
                           "row": number}
        address = (_cell(r["building"]), _cell(r["unit"]), _cell(r["room"]))
        part = parts.get(address)
        if part is None:
            parts[address] = _PartRow(*address, area=area, first_row=number, owners=[key])
            continue
        if part.area != area:
            err(number, "area_m2", f"同一房屋在第 {part.first_row} 行的面积不同")
        elif key in part.owners:
            err(number, "owner_name", f"重复的业主行（同一房屋、同一业主，见第 {part.first_row} 行）")
        else:
            part.owners.append(key)
    if errors:
        raise Invalid(
            {"file": [f"{len(errors)} 处错误，未导入任何数据"]},
            message="登记册有错误，已全部退回，请修改后重新导入",
            code="registry_invalid",
            details={"rows": errors},
        )
    return parts, owners


def normalise_name(name):
    """Names compare after NFC normalisation and without any white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", name or ""))


PREVIEW_LIMIT = 1000  # parts listed per kind of change in a preview (the counts are always whole)


def import_registry(actor, community_id, filename, data, preview=False):
    """Validate the whole file, then replace the community's registry in one transaction.

    preview=True does the same work — the same code decides what is added, changed and removed — and
    rolls the transaction back instead of committing: nothing is written, and the report lists the
    parts of each kind of change (`preview`, at most PREVIEW_LIMIT labels each) for the committee to
    check before importing."""
    require_community(actor, community_id, "committee")
    rows = read_rows(filename, data)
    parts, owners = _validate(rows)

    existing_owners = {
        o.identity_key: o for o in db.session.execute(db.select(Owner).filter_by(community_id=community_id)).scalars()
    }
    for key, info in owners.items():
        owner = existing_owners.get(key)
        if owner is None:
            owner = Owner(community_id=community_id, identity_key=key, kind=info["kind"])
            db.session.add(owner)
            existing_owners[key] = owner
        if owner.name != info["name"]:
            owner.name, owner.imported_by = info["name"], actor.id
        if owner.phone_hash != pii_hash(info["phone"]) or owner.phone_enc is None and info["phone"]:
            owner.phone_enc = encrypt_pii(info["phone"])
            owner.phone_hash = pii_hash(info["phone"])
            owner.imported_by = actor.id
        if info["id_number"] and owner.id_number_hash != pii_hash(info["id_number"]):
            owner.id_number_enc = encrypt_pii(info["id_number"])
            owner.id_number_hash = pii_hash(info["id_number"])
            owner.imported_by = actor.id
    db.session.flush()

    existing_parts = {
        (p.building, p.unit, p.room): p
        for p in db.session.execute(db.select(Part).filter_by(community_id=community_id)).scalars()
    }
    links = {}
    for po in db.session.execute(
        db.select(PartOwner).join(Part, Part.id == PartOwner.part_id).where(Part.community_id == community_id)
    ).scalars():
        links.setdefault(po.part_id, set()).add(po.owner_id)

    now = utcnow()
    added = changed = removed = 0
    listed = {"added": [], "changed": [], "removed": []}

    def note(kind, part, **extra):
        if preview and len(listed[kind]) < PREVIEW_LIMIT:
            listed[kind].append({"label": part.label, **extra})
    new_links = []
    fresh = [Part(community_id=community_id, building=row.building, unit=row.unit, room=row.room, area=row.area)
             for address, row in parts.items() if address not in existing_parts]
    db.session.add_all(fresh)
    db.session.flush()  # one flush for every new part's id
    for part in fresh:
        existing_parts[(part.building, part.unit, part.room)] = part
    fresh_ids = {part.id for part in fresh}
    for address, row in parts.items():
        owner_ids = {existing_owners[k].id for k in row.owners}
        part = existing_parts[address]
        if part.id in fresh_ids or part.removed_at is not None:
            added += 1
            note("added", part, area=row.area, owners=[owners[k]["name"] for k in row.owners])
            part.removed_at = None
            part.area = row.area
        elif part.area != row.area or links.get(part.id, set()) != owner_ids:
            changed += 1
            if preview:
                before = sorted(o.name for o in existing_owners.values() if o.id in links.get(part.id, set()))
                note("changed", part, old_area=part.area, area=row.area, old_owners=before,
                     owners=[owners[k]["name"] for k in row.owners])
            part.area = row.area
        old = links.get(part.id, set())
        if old != owner_ids:
            if old - owner_ids:
                db.session.execute(
                    db.delete(PartOwner).where(PartOwner.part_id == part.id,
                                               PartOwner.owner_id.in_(old - owner_ids))
                )
            new_links.extend({"part_id": part.id, "owner_id": oid, "imported_by": actor.id} for oid in owner_ids - old)
    for address, part in existing_parts.items():
        if address not in parts and part.removed_at is None:
            note("removed", part, area=part.area)
            part.removed_at = now
            removed += 1
    if new_links:
        db.session.execute(db.insert(PartOwner), new_links)
    report = {"rows": len(rows), "parts": len(parts), "owners": len(owners), "added": added, "changed": changed,
              "removed": removed, "errors": []}
    if preview:
        db.session.rollback()
        return {"import_id": None, **report, "preview": listed}
    record = RegistryImport(community_id=community_id, user_id=actor.id, filename=filename or "", rows=len(rows),
                            added=added, changed=changed, removed=removed)
    db.session.add(record)
    db.session.commit()
    return {"import_id": record.id, **report}


EXPORT_HEADER = ("楼栋", "单元", "房号", "面积", "业主姓名", "手机号", "身份证号", "业主类型")


def export_registry(actor, community_id):
    """The current registry as .xlsx bytes, one row per owner of a part, in the import's columns.
    Phone and ID numbers are masked as in every response: the file is for checking the registry
    against the committee's own master sheet, which is what is re-imported (a masked number would
    be refused)."""
    from openpyxl import Workbook

    from backend.security import decrypt_pii, mask_id_number, mask_phone

    require_community(actor, community_id, "committee", "property_staff", "regulator")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("业主名册")
    sheet.append(EXPORT_HEADER)
    query = (db.select(Part).filter_by(community_id=community_id).where(Part.removed_at.is_(None))
             .order_by(Part.building, Part.unit, Part.room))
    for part in db.session.execute(query).scalars():
        area = f"{part.area // 100}.{part.area % 100:02d}"
        for owner in part.owners or [None]:
            if owner is None:
                sheet.append((part.building, part.unit, part.room, area, "", "", "", ""))
                continue
            sheet.append((part.building, part.unit, part.room, area, owner.name,
                          mask_phone(decrypt_pii(owner.phone_enc)) or "",
                          mask_id_number(decrypt_pii(owner.id_number_enc)) or "",
                          "开发商" if owner.kind == "developer" else "个人"))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def list_parts(actor, community_id, building=None, page=1, per_page=50):
    """The registry's current parts with their owners (committee, staff and regulators)."""
    from backend.pagination import paginate

    require_community(actor, community_id, "committee", "property_staff", "regulator")
    query = db.select(Part).filter_by(community_id=community_id).where(Part.removed_at.is_(None))
    if building:
        query = query.where(Part.building == building)
    return paginate(query.order_by(Part.building, Part.unit, Part.room), page, per_page)
