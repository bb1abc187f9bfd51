"""Registry import: CSV and XLSX, row-level errors, all or nothing, re-import report, PII at rest."""
import io

import pytest
from openpyxl import Workbook

from backend.extensions import db
from backend.models import Owner, Part
from backend.services.registry import area_to_int, id_number_valid
from tests.support import id_number

GOOD = [
    ("1", "1", "101", "89.50", "张伟", "13800000001", id_number(1), "person"),
    ("1", "1", "102", "95.3", "李娜", "13800000002", id_number(2), "person"),
    ("1", "1", "102", "95.3", "王强", "13800000003", "", "person"),
    ("2", "1", "101", "76.05", "阳光置业", "", "", "developer"),
]


def test_gb11643_check_digit():
    assert id_number_valid("11010519491231002X")
    assert id_number_valid(id_number(7))
    assert not id_number_valid("110105194912310021")
    assert not id_number_valid("11010519491231002")


@pytest.mark.parametrize("text,expected", [("89.5", 8950), ("89.52", 8952), ("1", 100), (89.55, 8955),
                                           ("0", None), ("-1", None), ("1.234", None), ("abc", None),
                                           ("", None), ("1e3", None)])
def test_area_parsing(text, expected):
    assert area_to_int(text) == expected


def test_csv_import_report_and_masked_listing(world, client):
    cid = world.community()
    committee = world.member(cid, "committee")
    resp = world.import_registry(cid, GOOD, user=committee)
    assert resp.status_code == 200, resp.json
    assert resp.json | {"import_id": 0} == {"import_id": 0, "rows": 4, "parts": 3, "owners": 4, "added": 3,
                                           "changed": 0, "removed": 0, "errors": []}
    parts = client.get(f"/api/v1/communities/{cid}/parts", headers=committee["headers"]).json
    assert parts["total"] == 3
    flat = {p["label"]: p for p in parts["items"]}
    assert flat["1-1-102"]["area"] == 9530
    assert sorted(o["name"] for o in flat["1-1-102"]["owners"]) == ["李娜", "王强"]
    assert flat["1-1-101"]["owners"][0]["phone"] == "138****0001"
    assert "13800000001" not in str(parts) and id_number(1) not in str(parts)


def test_pii_encrypted_at_rest(world):
    cid = world.community()
    world.import_registry(cid, GOOD)
    owner = db.session.execute(db.select(Owner).filter_by(name="张伟")).scalar_one()
    assert b"13800000001" not in owner.phone_enc and id_number(1).encode() not in owner.id_number_enc
    assert owner.phone_hash and owner.phone_hash != "13800000001"


def test_xlsx_with_chinese_headers(world):
    cid = world.community()
    wb = Workbook()
    ws = wb.active
    ws.append(["楼栋", "单元", "房号", "面积", "业主姓名", "手机号", "身份证号", "业主类型"])
    ws.append([3, 2, 201, 89.52, "周杰", "13900000009", id_number(9), "个人"])
    ws.append([3, 2, 202, 120, "开发商", None, None, "开发商"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = world.import_registry(cid, buf.getvalue(), filename="名册.xlsx")
    assert resp.status_code == 200, resp.json
    part = db.session.execute(db.select(Part).filter_by(community_id=cid, room="201")).scalar_one()
    assert (part.building, part.unit, part.area) == ("3", "2", 8952)


def test_row_errors_reported_and_nothing_written(world):
    cid = world.community()
    rows = GOOD + [
        ("1", "1", "103", "", "赵六", "13800000005", "", "person"),           # missing area
        ("1", "1", "104", "-3", "钱七", "13800000006", "", "person"),         # negative area
        ("1", "1", "105", "80.123", "孙八", "13800000007", "", "person"),     # three decimals
        ("1", "1", "106", "80", "周九", "12345", "", "person"),               # bad phone
        ("1", "1", "107", "80", "吴十", "", "110105194912310021", "person"),  # bad check digit
        ("1", "1", "101", "89.50", "张伟", "13800000001", id_number(1), "person"),  # duplicate owner row
        ("1", "1", "108", "80", "郑十一", "13800000008", "", "alien"),         # bad kind
    ]
    resp = world.import_registry(cid, rows)
    assert resp.status_code == 422
    err = resp.json["error"]
    assert err["code"] == "registry_invalid"
    got = {(r["row"], r["field"]) for r in err["details"]["rows"]}
    assert got == {(6, "area_m2"), (7, "area_m2"), (8, "area_m2"), (9, "owner_phone"), (10, "owner_id_number"),
                   (11, "owner_name"), (12, "owner_kind")}
    assert db.session.execute(db.select(Part).filter_by(community_id=cid)).first() is None
    assert db.session.execute(db.select(Owner).filter_by(community_id=cid)).first() is None


def test_reimport_reports_added_changed_removed(world, client):
    cid = world.community()
    committee = world.member(cid, "committee")
    assert world.import_registry(cid, GOOD, user=committee).status_code == 200
    second = [
        ("1", "1", "101", "89.60", "张伟", "13800000001", id_number(1), "person"),  # area changed
        ("1", "1", "102", "95.3", "李娜", "13800000002", id_number(2), "person"),   # co-owner 王强 left
        ("3", "1", "101", "100", "新业主", "13800000010", "", "person"),            # added
    ]                                                                              # 2-1-101 removed
    resp = world.import_registry(cid, second, user=committee)
    assert resp.status_code == 200
    assert (resp.json["added"], resp.json["changed"], resp.json["removed"]) == (1, 2, 1)
    again = world.import_registry(cid, second, user=committee)
    assert (again.json["added"], again.json["changed"], again.json["removed"]) == (0, 0, 0)
    labels = {p["label"] for p in client.get(f"/api/v1/communities/{cid}/parts",
                                             headers=committee["headers"]).json["items"]}
    assert labels == {"1-1-101", "1-1-102", "3-1-101"}


@pytest.mark.parametrize("filename,data,code", [
    ("registry.txt", b"building\n", "unsupported_file_type"),
    ("registry.xlsx", b"not a zip", "unreadable_file"),
    ("registry.csv", b"", "empty_file"),
    ("registry.csv", "楼栋,单元\n1,1\n".encode(), "missing_columns"),
    ("registry.csv", b"\xff\xfe\x00garbage\x81\x82", "unreadable_file"),
])
def test_bad_files_are_422(world, filename, data, code):
    cid = world.community()
    resp = world.import_registry(cid, data, filename=filename)
    assert resp.status_code == 422 and resp.json["error"]["code"] == code


def test_gbk_csv_accepted(world):
    cid = world.community()
    text = "building,unit,room,area_m2,owner_name,owner_phone\n1,1,101,88,陈静,13800000011\n"
    resp = world.import_registry(cid, text.encode("gb18030"))
    assert resp.status_code == 200 and resp.json["parts"] == 1


def test_only_committee_imports(world, client):
    cid = world.community()
    for role in ("property_staff", "resident", "regulator"):
        user = world.member(cid, role)
        assert world.import_registry(cid, GOOD, user=user).status_code == 403
    other = world.community()
    outsider = world.member(other, "committee")
    assert world.import_registry(cid, GOOD, user=outsider).status_code == 403
    assert client.get(f"/api/v1/communities/{cid}/parts", headers=outsider["headers"]).status_code == 403


def test_5000_part_xlsx_imports(world):
    cid = world.community()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["building", "unit", "room", "area_m2", "owner_name", "owner_phone", "owner_id_number", "owner_kind"])
    for i in range(5000):
        ws.append([str(i // 200 + 1), str(i // 100 % 2 + 1), str(1000 + i % 100), "88.88", f"业主{i}",
                   f"139{i:08d}", "", "person"])
    buf = io.BytesIO()
    wb.save(buf)
    resp = world.import_registry(cid, buf.getvalue(), filename="big.xlsx")
    assert resp.status_code == 200, resp.json
    assert resp.json["parts"] == 5000 and resp.json["added"] == 5000
