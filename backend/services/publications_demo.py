"""Demo content for the development run: the five disclosures, a public-revenue statement, an
emergency fund record and notices for the demo community (called from `flask --app wsgi demo`)."""
from datetime import timedelta

from backend.extensions import db
from backend.models import User
from backend.models.disclosure import PublishedVersion
from backend.services import disclosures, emergency_fund, notices
from backend.services.disclosure_content import china_today

FEE_ITEMS = {"items": [
    {"code": "property_service", "name": "物业服务费", "basis": "per_m2_month", "mandatory": True,
     "description": "含公共区域保洁、秩序维护、绿化养护、共用设施日常维护"},
    {"code": "waste", "name": "生活垃圾清运费", "basis": "per_part_month", "mandatory": True},
    {"code": "parking", "name": "地面临时停车费", "basis": "per_use", "mandatory": False},
]}


def _standards():
    return {
        "filing_reference": "朝发改价备〔2025〕第 278 号",
        "effective_date": "2025-01-01",
        "default_building_type": "multi_storey",
        "buildings": [{"building": "1", "type": "high_rise"}, {"building": "2", "type": "high_rise"}],
        "prices": [
            {"item_code": "property_service", "building_type": "high_rise", "price_fen": 235},
            {"item_code": "property_service", "building_type": "multi_storey", "price_fen": 149},
            {"item_code": "waste", "building_type": "high_rise", "price_fen": 500},
            {"item_code": "waste", "building_type": "multi_storey", "price_fen": 500},
            {"item_code": "parking", "building_type": "multi_storey", "price_fen": 500},
            {"item_code": "parking", "building_type": "high_rise", "price_fen": 500},
        ],
    }


def _previous_month_and_half():
    today = china_today()
    last_month = today.replace(day=1) - timedelta(days=1)
    half = f"{today.year}-H1" if today.month >= 7 else f"{today.year - 1}-H2"
    return last_month.strftime("%Y-%m"), half


def load(community_id, clerk_openid, committee_openid):
    """Publish the demo content once (nothing happens when the community already has some)."""
    if db.session.execute(db.select(PublishedVersion.id).filter_by(community_id=community_id).limit(1)).first():
        return []
    clerk = db.session.execute(db.select(User).filter_by(openid=clerk_openid)).scalar_one()
    committee = db.session.execute(db.select(User).filter_by(openid=committee_openid)).scalar_one()
    month, half = _previous_month_and_half()
    published = [
        ("service_content", {"items": [
            {"name": "公共区域保洁", "description": "楼道、电梯轿厢、大堂清扫擦拭", "frequency": "每日两次"},
            {"name": "秩序维护", "description": "出入口 24 小时值守，夜间每两小时巡逻一次", "frequency": "全天"},
            {"name": "绿化养护", "description": "修剪、浇灌、病虫害防治", "frequency": "每周"},
        ]}),
        ("service_standard", {"grade": "二级", "reference": "北京市住宅物业服务标准 DB11/T 751", "clauses": [
            {"title": "客户服务", "text": "服务中心工作日 8:00-18:00 有人接待，24 小时报修电话"},
            {"title": "维修响应", "text": "急修 30 分钟内到场，一般维修 24 小时内处理"},
        ]}),
        ("fee_items", FEE_ITEMS),
        ("fee_standards", _standards()),
        ("utility_apportionment", {"period": month, "category": "electricity", "total_fen": 1286534,
                                   "method": "by_area", "installations": ["电梯", "楼道灯", "二次供水水泵"]}),
    ]
    lines = []
    for kind, content in published:
        disclosures.publish_disclosure(clerk, community_id, kind, content)
        lines.append(f"  disclosure {kind} v1")
    disclosures.publish_revenue_statement(committee, community_id, {
        "period": half, "opening_balance_fen": 2356000,
        "income": [{"category": "advertising", "description": "电梯轿厢广告", "amount_fen": 480000},
                   {"category": "parking", "description": "地面停车位占用费", "amount_fen": 1260000},
                   {"category": "venue_rental", "description": "会所场地出租", "amount_fen": 90000}],
        "expenses": [{"category": "maintenance", "description": "儿童游乐设施维修", "amount_fen": 186000},
                     {"category": "management_fee", "description": "物业企业管理酬金（10%）", "amount_fen": 183000}],
    })
    lines.append(f"  revenue statement {half} v1")
    emergency_fund.record(committee, community_id, amount_fen=1280000, reason="3 号楼 1 单元电梯曳引机故障停运，紧急更换",
                          contractor="北京安达电梯维保有限公司", location="3 号楼 1 单元",
                          spent_on=china_today() - timedelta(days=20), street_office_reference="朝街应急〔2025〕7 号",
                          street_office_confirmed_on=china_today() - timedelta(days=21))
    notices.publish(committee, community_id, "关于召开业主大会的通知",
                    "业主大会将于下月举行，议题包括续聘物业服务企业。请各位业主在小程序中完成业主认证。",
                    "meeting", pinned=True)
    notices.publish(clerk, community_id, "停水通知", "周六 9:00-12:00 二次供水设备检修，届时 1、2 号楼停水。",
                    "outage")
    lines.append("  emergency fund record and two notices")
    return lines
