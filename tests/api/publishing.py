"""Test material for disclosures, revenue statements, emergency records and notices."""
import io

from PIL import Image

from tests.support import id_number

PHONES = {"张伟": "13800000001", "李娜": "13800000002", "王强": "13800000003", "赵敏": "13800000004"}


def upload(client, user, purpose="photo"):
    """Upload a small PNG (or, with purpose=document, a PDF) made by Pillow; returns its media id."""
    buf = io.BytesIO()
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    if purpose == "document":
        image.save(buf, "PDF")
        name = "notice.pdf"
    else:
        image.save(buf, "PNG")
        name = "photo.png"
    resp = client.post("/api/v1/media", headers=user["headers"], content_type="multipart/form-data",
                       data={"file": (io.BytesIO(buf.getvalue()), name), "purpose": purpose})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def bind(world, user, community_id, building, unit, room, name):
    """A further verified binding of an owner who is already logged in with a verified phone."""
    resp = world.client.post(f"/api/v1/communities/{community_id}/bindings", headers=user["headers"],
                             json={"building": building, "unit": unit, "room": room, "name": name})
    assert resp.status_code == 201 and resp.json["status"] == "verified", resp.json
    return resp.json


def other_community(world):
    """A second community with its own registry, staff and committee."""
    cid = world.community()
    resp = world.import_registry(cid, [("9", "1", "101", "100.00", "孙丽", "13900000009", id_number(9), "person")])
    assert resp.status_code == 200, resp.json
    return cid


SERVICE_CONTENT = {"items": [
    {"name": "保洁", "description": "楼道、电梯轿厢清扫", "frequency": "每日两次"},
    {"name": "秩序维护", "description": "出入口 24 小时值守", "frequency": "全天"},
]}
SERVICE_STANDARD = {"grade": "二级", "reference": "DB11/T 751-2020", "clauses": [
    {"title": "客服", "text": "工作日 8:00-18:00 有人接待"},
    {"title": "维修", "text": "急修 30 分钟内到场"},
]}
FEE_ITEMS = {"items": [
    {"code": "property_service", "name": "物业服务费", "basis": "per_m2_month", "mandatory": True},
    {"code": "waste", "name": "生活垃圾清运费", "basis": "per_part_month", "mandatory": True},
    {"code": "parking", "name": "临时停车费", "basis": "per_use", "mandatory": False},
]}
FEE_STANDARDS = {
    "filing_reference": "京发改（2025）物价备字第 12 号",
    "effective_date": "2025-01-01",
    "default_building_type": "multi_storey",
    "buildings": [{"building": "1", "type": "high_rise"}],
    "prices": [
        {"item_code": "property_service", "building_type": "high_rise", "price_fen": 235},
        {"item_code": "property_service", "building_type": "multi_storey", "price_fen": 149},
        {"item_code": "waste", "building_type": "high_rise", "price_fen": 500},
        {"item_code": "waste", "building_type": "multi_storey", "price_fen": 500},
        {"item_code": "parking", "building_type": "multi_storey", "price_fen": 300},
    ],
}
APPORTIONMENT = {"period": "2025-03", "category": "electricity", "total_fen": 100001, "method": "by_area",
                 "installations": ["电梯", "楼道灯", "水泵"]}
REVENUE = {
    "period": "2025-H1",
    "opening_balance_fen": 1000000,
    "income": [{"category": "advertising", "description": "电梯广告", "amount_fen": 360000},
               {"category": "parking", "description": "地面停车位", "amount_fen": 540000}],
    "expenses": [{"category": "maintenance", "description": "健身器材维修", "amount_fen": 80000}],
}
CONTENT = {"service_content": SERVICE_CONTENT, "service_standard": SERVICE_STANDARD, "fee_items": FEE_ITEMS,
           "fee_standards": FEE_STANDARDS, "utility_apportionment": APPORTIONMENT}
