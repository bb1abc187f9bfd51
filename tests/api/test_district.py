"""The district (issue 15): organisations and codes, hotline orders (idempotent import, reporter-less
workflow), the weekly roll-up, the integrity formula against an independent computation on generated
data with its signed, frozen results, the mediation ladder on a controlled clock, Open311 against the
GeoReport v2 fields (JSON and XML), and a public query that leaks nothing personal."""
import io
import json
import random
import re
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import pytest

from backend.extensions import db
from backend.models import Ticket, User
from backend.services import hotline, integrity, integrity_results, mediation
from voting.keys import verify_object

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)  # a Wednesday
USCC = "91350100M000100Y43"


class District:
    def __init__(self, world):
        self.world, self.client = world, world.client
        self.admin = world.platform_admin()
        self.cid, self.phones = world.standard_community()
        self.owner = world.owner(self.cid, "1", "1", "101", "张伟", self.phones["张伟"])
        self.staff = world.member(self.cid, "property_staff")
        self.committee = world.member(self.cid, "committee")
        self.mediator = world.member(self.cid, "mediator")
        self.street = self.post(self.admin, "/api/v1/streets", {"name": "和平街道"}).json["id"]
        assert self.client.put(f"/api/v1/communities/{self.cid}/street", headers=self.admin["headers"], json={
            "street_id": self.street, "latitude": "31.230416", "longitude": "121.473701"}).status_code == 200
        self.street_regulator = world.login()
        self.district_regulator = world.login()
        for user, street in ((self.street_regulator, self.street), (self.district_regulator, None)):
            assert self.post(self.admin, "/api/v1/regulator-scopes",
                             {"user_id": user["id"], "street_id": street}).status_code == 201
        self.org = self.post(self.district_regulator, "/api/v1/organisations",
                             {"kind": "property_company", "name": "安居物业", "uscc": USCC}).json["id"]
        self.manager = self.post(self.district_regulator, f"/api/v1/organisations/{self.org}/managers",
                                 {"name": "陈建国", "phone": "13912345678"}).json["id"]
        assert self.post(self.street_regulator, f"/api/v1/communities/{self.cid}/service-contracts", {
            "organisation_id": self.org, "service": "property", "starts_on": "2025-01-01",
            "manager_id": self.manager}).status_code == 201

    def post(self, user, path, body):
        return self.client.post(path, headers=user["headers"], json=body)

    def name(self):
        return db.session.execute(db.text("SELECT name FROM communities WHERE id = :c"), {"c": self.cid}).scalar()


@pytest.fixture
def d(world):
    return District(world)


def test_unified_social_credit_codes_are_checked_and_unique(d):
    bad = d.post(d.district_regulator, "/api/v1/organisations",
                 {"kind": "lift_contractor", "name": "某电梯", "uscc": USCC[:-1] + "X"})
    assert bad.status_code == 422 and "uscc" in bad.json["error"]["details"]["fields"]
    again = d.post(d.district_regulator, "/api/v1/organisations", {"kind": "lift_contractor", "name": "某电梯",
                                                                   "uscc": USCC.lower()})
    assert again.status_code == 409 and again.json["error"]["code"] == "uscc_taken"
    street_only = d.post(d.street_regulator, "/api/v1/organisations",
                         {"kind": "lift_contractor", "name": "某电梯", "uscc": "91110000600037341L"})
    assert street_only.status_code == 403  # the district registers organisations


def test_service_history_is_kept_and_never_rewritten(d):
    other = d.post(d.district_regulator, "/api/v1/organisations",
                   {"kind": "property_company", "name": "宜家物业", "uscc": "91110000600037341L"}).json["id"]
    path = f"/api/v1/communities/{d.cid}/service-contracts"
    assert d.post(d.street_regulator, path, {"organisation_id": other, "service": "property",
                                             "starts_on": "2026-03-01"}).status_code == 201
    history = d.client.get(path, headers=d.committee["headers"]).json
    assert [(c["organisation_id"], c["starts_on"], c["ends_on"]) for c in history] == [
        (other, "2026-03-01", None), (d.org, "2025-01-01", "2026-03-01")]
    clash = d.post(d.street_regulator, path, {"organisation_id": d.org, "service": "property", "starts_on": "2026-02-01"})
    assert clash.status_code == 409 and clash.json["error"]["code"] == "contract_overlap"


def orders_csv(rows):
    head = "工单编号,受理时间,事发地址,诉求内容,诉求类型,渠道\n"
    return head + "".join(",".join(r) + "\n" for r in rows)


def test_hotline_orders_become_tickets_once_and_count_with_the_rest(d):
    name = d.name()
    rows = [("H001", "2026-11-17 09:30:00", f"某区幸福路{name}3号楼2单元", "电梯困人多次", "投诉", "12345"),
            ("H002", "2026-11-18 20:15", f"{name}1栋", "夜间噪音扰民", "投诉", "12345热线"),
            ("H003", "2026-11-18 20:15", "不存在的小区", "垃圾", "投诉", "12345"),
            ("H004", "not a time", f"{name}", "x", "投诉", "市长信箱")]
    upload = lambda: d.client.post("/api/v1/hotline-imports", headers=d.street_regulator["headers"],  # noqa: E731
                                   data={"file": (io.BytesIO(orders_csv(rows).encode("gb18030")), "orders.csv")},
                                   content_type="multipart/form-data")
    first = upload().json
    assert (first["imported"], first["duplicates"]) == (2, 0), first
    assert {(r["order_no"], r["reason"]) for r in first["refused"]} == {("H003", "no_match"), ("H004", "time")}
    second = upload().json
    assert second["imported"] == 0 and second["duplicates"] == 2  # idempotent
    t1 = db.session.get(Ticket, first["ticket_ids"][0])
    assert (t1.channel, t1.external_id, t1.reporter_id, t1.subject, t1.category) == ("12345", "H001", None, "elevator",
                                                                                       "complaint")
    assert t1.created_at == datetime(2026, 11, 17, 1, 30, tzinfo=timezone.utc)  # China time in the file
    # the company works it; with no reporter, the regulator (who calls the citizen back) confirms
    for to, extra in (("accepted", {}), ("in_progress", {}), ("resolved", {"comment": "已修复"})):
        assert d.post(d.staff, f"/api/v1/tickets/{t1.id}/transitions", {"to": to, **extra}).status_code == 200
    assert d.post(d.owner, f"/api/v1/tickets/{t1.id}/transitions", {"to": "confirmed", "rating": 5}).status_code == 404
    done = d.post(d.street_regulator, f"/api/v1/tickets/{t1.id}/transitions", {"to": "confirmed", "rating": 4})
    assert done.status_code == 200 and done.json["status"] == "confirmed"
    stats = d.client.get(f"/api/v1/communities/{d.cid}/ticket-stats?from=2026-11-01&to=2026-11-30",
                         headers=d.staff["headers"]).json
    assert stats["total"] == 2 and stats["by_category"]["complaint"] == 2
    # the weekly roll-up of 16–22 November: two complaints → a focus inspection, once
    rollup = hotline.weekly_rollup(NOW)
    assert rollup.week == "2026-W47" and rollup.totals["focus"] == 1 and rollup.totals["by_channel"] == {"12345": 2}
    assert hotline.weekly_rollup(NOW + timedelta(hours=1)).created_at == rollup.created_at
    view = d.client.get("/api/v1/complaint-rollups/2026-W47", headers=d.street_regulator["headers"]).json
    assert view["focus"][0]["community_id"] == d.cid and view["focus"][0]["complaints"] == 2


# ---------------------------------------------------------------- the integrity formula


def independent_score(rows, accept_hours, hours, lost, inspections, overdue, kept, due):
    """The formula of docs/integrity.md written again from the document, over plain tuples."""
    done = ("resolved", "confirmed")
    complaints = [r for r in rows if r["category"] == "complaint" and r["invalid_at"] is None]
    resolved = sum(r["status"] in done for r in complaints)
    parts = {"resolution": 3000 if not complaints else min(3000, 3000 * resolved * 10000 // (len(complaints) * 9500))}
    n = len(rows)
    fr = sum(r["first_response_at"] is not None and r["first_response_at"] <= r["created_at"] + timedelta(hours=accept_hours)
             for r in rows)
    parts["first_response"] = 1000 if n == 0 else 1000 * fr // n
    rt = sum(r["status"] in done and r["resolved_at"] <= r["created_at"] + timedelta(hours=hours[r["subject"]])
             for r in rows)
    parts["resolution_time"] = 1000 if n == 0 else 1000 * rt // n
    rated = [r for r in rows if r["rating"] is not None]
    parts["satisfaction"] = 1500 if not rated else 1500 * sum(r["rating"] >= 4 for r in rated) // len(rated)
    ever = [r for r in rows if r["resolved_at"] is not None]
    parts["reopen"] = 500 if not ever else 500 * sum(r["reopen_count"] == 0 for r in ever) // len(ever)
    parts["inspections"] = 1500 if inspections == 0 else max(0, 1500 - 100 * lost // inspections)
    parts["measures"] = max(0, 500 - 100 * overdue)
    parts["disclosures"] = 1000 if due == 0 else 1000 * kept // due
    return parts, sum(parts.values())


def test_the_formula_on_generated_data_matches_an_independent_computation(d, app):
    rng = random.Random(15)
    start = datetime(2026, 6, 30, 16, 0, tzinfo=timezone.utc)  # 1 July 00:00 China
    made = []
    for i in range(400):
        created = start + timedelta(minutes=rng.randrange(0, 90 * 24 * 60))
        status = rng.choice(("submitted", "accepted", "in_progress", "resolved", "confirmed", "reopened"))
        resolved = created + timedelta(hours=rng.randrange(1, 400)) if status in ("resolved", "confirmed", "reopened") else None
        row = dict(community_id=d.cid, reporter_id=None if i % 3 else d.owner["id"], channel="12345" if i % 3 else "miniprogram",
                   external_id=f"G{i}" if i % 3 else None, category=rng.choice(("complaint", "repair", "suggestion")),
                   subject=rng.choice(("elevator", "noise", "parking", "greenery")), description="x", location="1号楼",
                   status=status, created_at=created, updated_at=created, last_activity_at=created,
                   first_response_at=created + timedelta(hours=rng.randrange(1, 60)) if status != "submitted" else None,
                   resolved_at=resolved, rating=rng.choice((None, 1, 3, 4, 5)) if status == "confirmed" else None,
                   reopen_count=1 if status == "reopened" or (resolved and rng.random() < 0.1) else 0,
                   invalid_at=created if rng.random() < 0.05 else None)
        made.append(row)
    db.session.execute(db.insert(Ticket), made)
    db.session.commit()
    d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/inspections", {
        "kind": "inspection", "inspected_on": "2026-08-03", "items": [
            {"code": "clean", "title": "清洁", "passed": False, "points": 4},
            {"code": "lift.cert", "title": "电梯", "passed": True, "points": 5}]})
    content = integrity.score_of(d.org, "2026-Q3", NOW)
    expected, score = independent_score(made, app.config["TICKET_ACCEPT_HOURS"], app.config["TICKET_RESOLUTION_HOURS"],
                                        lost=4, inspections=1, overdue=0, kept=0, due=6)
    assert {c["code"]: c["earned"] for c in content["components"]} == expected
    assert content["score"] == score
    complaints = next(c for c in content["components"] if c["code"] == "resolution")
    assert set(complaints["records"]["complaints"]) <= {t.id for t in db.session.execute(db.select(Ticket)).scalars()}
    # frozen and signed, once; the public sees it and can check it
    assert integrity_results.assess(NOW)["published"] == 1
    again = integrity_results.assess(NOW + timedelta(hours=2))
    assert again["published"] == 0 and again["unchanged"] == 0
    public = d.client.get(f"/api/v1/public/organisations/{d.org}/scores/2026-Q3").json
    assert public["score"] == score and verify_object(public["server_key"], public["signed"])
    from backend.services.disclosures import content_sha256
    assert public["signed"]["content_sha256"] == content_sha256(public["content"])
    # a change afterwards needs a new signed version
    db.session.execute(db.update(Ticket).where(Ticket.status == "submitted").values(status="resolved",
                                                                                       resolved_at=NOW))
    db.session.commit()
    revised = integrity_results.assess(NOW, revise=True, note="补录")
    assert revised["published"] == 1
    versions = d.client.get(f"/api/v1/public/organisations/{d.org}/scores/2026-Q3?version=1").json
    assert versions["version"] == 1 and versions["score"] == score


def valid_uscc(n):
    from stdnum.cn import uscc

    body = f"91110000MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def test_red_and_black_lists_take_ties_at_the_boundary(d):
    orgs = [d.org] + [d.post(d.district_regulator, "/api/v1/organisations", {
        "kind": "property_company", "name": f"物业{i}", "uscc": code}).json["id"]
        for i, code in enumerate(valid_uscc(n) for n in range(1, 9))]
    scores = [9500, 9400, 9400, 9000, 8800, 8800, 8000, 7000, 7000]
    for oid, score in zip(orgs, scores):
        for q in ("2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"):
            integrity_results.publish("quarterly_score", f"org:{oid}", q, {"score": score, "q": q}, score, oid)
    db.session.commit()
    lists = integrity_results.year_lists(datetime(2026, 1, 10, tzinfo=timezone.utc))["property_company"]
    assert lists.content["red"] == sorted(orgs[:6])  # 5th place ties with 6th: both listed
    assert lists.content["black"] == sorted(orgs[6:])  # 3rd from the bottom is 8000; 7000 twice
    assert integrity_results.year_lists(datetime(2026, 1, 11, tzinfo=timezone.utc))["property_company"] is None


# ---------------------------------------------------------------- the mediation ladder


def test_the_ladder_moves_up_only_after_each_levels_time_limit_or_a_failure(d, app):
    t0 = datetime(2026, 10, 1, 2, 0, tzinfo=timezone.utc)
    owner = db.session.get(User, d.owner["id"])
    dispute = mediation.file_dispute(owner, d.cid, "停车收费", "物业擅自涨价", now=t0)
    days = app.config["MEDIATION_LEVEL_DAYS"]
    with pytest.raises(Exception) as early:
        mediation.take_up(owner, dispute.id, now=t0 + timedelta(days=days[0]) - timedelta(seconds=1))
    assert early.value.code == "level_time_not_over"
    assert mediation.take_up(owner, dispute.id, now=t0 + timedelta(days=days[0])).level == 2
    t1 = t0 + timedelta(days=days[0], hours=1)
    mediator = db.session.get(User, d.mediator["id"])
    committee = db.session.get(User, d.committee["id"])
    with pytest.raises(Exception) as wrong:
        mediation.record_step(committee, dispute.id, "failed", "未达成一致", now=t1)
    assert wrong.value.code == "not_this_level"
    mediation.record_step(mediator, dispute.id, "failed", "双方分歧大", now=t1)
    assert mediation.take_up(owner, dispute.id, now=t1).level == 3  # a failure: at once
    regulator = db.session.get(User, d.street_regulator["id"])
    t3 = t1 + timedelta(days=days[2])
    assert mediation.take_up(regulator, dispute.id, now=t3).level == 4
    listed = d.client.get("/api/v1/regulator/disputes", headers=d.district_regulator["headers"]).json
    assert [x["id"] for x in listed["items"]] == [dispute.id] and listed["items"][0]["level"] == 4
    resp = d.post(d.owner, f"/api/v1/disputes/{dispute.id}/take-up", {})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "dispute_at_top"
    levels = [(r["level"], r["action"]) for r in d.client.get(f"/api/v1/disputes/{dispute.id}",
                                                              headers=d.owner["headers"]).json["records"]]
    assert levels == [(1, "filed"), (2, "taken_up"), (2, "failed"), (3, "taken_up"), (4, "taken_up")]


# ---------------------------------------------------------------- Open311 and the public query

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
W3C = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})\Z")


def test_open311_georeport_v2_fields_in_json_and_xml(d):
    services = d.client.get("/open311/v2/services.json").json
    assert services and all(set(s) == SERVICE_FIELDS and s["type"] == "realtime" for s in services)
    xml = ElementTree.fromstring(d.client.get("/open311/v2/services.xml").data)
    assert xml.tag == "services" and {c.tag for c in xml[0]} == SERVICE_FIELDS
    key = d.post(d.admin, "/api/v1/open311-clients", {"name": "市民服务平台"}).json["api_key"]
    refused = d.client.post("/open311/v2/requests.json", data={"api_key": "wrong", "service_code": "noise"})
    assert refused.status_code == 403 and set(refused.json[0]) == {"code", "description"}
    made = d.client.post("/open311/v2/requests.json", data={
        "api_key": key, "service_code": "noise", "address_id": f"community-{d.cid}", "description": "我是张伟 13800000001",
        "first_name": "伟", "last_name": "张", "phone": "13800000001"})
    assert made.status_code == 201 and set(made.json[0]) == {"service_request_id", "service_notice", "account_id"}
    rid = made.json[0]["service_request_id"]
    d.post(d.owner, f"/api/v1/communities/{d.cid}/tickets", {"category": "complaint", "subject": "pets",
                                                            "description": "张伟家的狗，电话 13800000001", "part_id": None,
                                                            "location": "3号楼2单元"})
    listed = d.client.get(f"/open311/v2/requests.json?jurisdiction_id=street-{d.street}&status=open")
    assert listed.status_code == 200 and len(listed.json) == 2
    for item in listed.json:
        assert set(item) == REQUEST_FIELDS and item["status"] == "open"
        assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])
        assert item["lat"] == "31.230416" and item["long"] == "121.473701" and item["agency_responsible"] == "安居物业"
    pets = next(i for i in listed.json if i["service_code"] == "pets")
    assert pets["address"].endswith("3号楼") and "单元" not in pets["address"]
    one = d.client.get(f"/open311/v2/requests/{rid}.xml")
    root = ElementTree.fromstring(one.data)
    assert one.content_type.startswith("text/xml") and root.tag == "service_requests"
    assert {c.tag for c in root[0]} == REQUEST_FIELDS
    by_id = d.client.get(f"/open311/v2/requests.json?service_request_id={rid}&status=closed").json
    assert [r["service_request_id"] for r in by_id] == [rid]  # with ids, the other filters are ignored
    bad_date = d.client.get("/open311/v2/requests.xml?start_date=yesterday")
    assert bad_date.status_code == 400 and ElementTree.fromstring(bad_date.data).tag == "errors"
    missing = d.client.get("/open311/v2/requests/999999.json")
    assert missing.status_code == 404 and missing.json[0]["code"] == 404
    text = listed.get_data(as_text=True) + one.get_data(as_text=True)
    assert "张伟" not in text and "13800000001" not in text


def test_the_public_query_needs_no_login_and_leaks_nothing_personal(d):
    d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/inspections", {
        "kind": "inspection", "inspected_on": "2026-11-20", "items": [
            {"code": "clean", "title": "清洁", "passed": False, "points": 2}],
        "measures": [{"level": "rectification_notice", "description": "限期整改", "due_on": "2026-11-30"}]})
    d.post(d.owner, f"/api/v1/communities/{d.cid}/tickets", {"category": "complaint", "subject": "noise",
                                                            "description": "张伟投诉", "location": "1号楼"})
    integrity_results.assess(datetime.now(timezone.utc))
    answers = [d.client.get("/api/v1/public/organisations"), d.client.get(f"/api/v1/public/organisations/{d.org}")]
    answers += [d.client.get(f"/api/v1/public/organisations/{d.org}/scores/"
                             f"{integrity.previous_quarter(integrity.quarter_of(datetime.now(timezone.utc)))}")]
    assert all(a.status_code in (200, 404) for a in answers) and answers[1].status_code == 200
    assert answers[1].json["measures"][0]["level"] == "rectification_notice"
    text = "".join(a.get_data(as_text=True) for a in answers)
    people = ["张伟", "李娜", "王强", "赵敏", "陈建国", "13912345678", "13800000001", "110105"]
    people += [u["openid"] for u in (d.owner, d.staff, d.committee, d.street_regulator, d.admin)]
    assert not [p for p in people if p in text]
    for answer in answers:
        if answer.status_code == 200:
            keys = set(re.findall(r'"([a-z_]+)":', answer.get_data(as_text=True)))
            assert not keys & {"user_id", "author_id", "reporter_id", "openid", "phone", "inspector_id",
                               "issued_by", "manager_id", "filed_by", "actor_id"}, keys
    assert json.loads(answers[1].get_data())["organisation"]["uscc"] == USCC


def test_the_worked_example():
    """docs/integrity.md "Worked example", figure by figure."""
    figures = {"resolution": {"complaints": 40, "resolved": 37}, "first_response": {"tickets": 120, "in_time": 108},
               "resolution_time": {"tickets": 120, "in_time": 96}, "satisfaction": {"rated": 50, "satisfied": 44},
               "reopen": {"resolved": 100, "reopened": 6}, "inspections": {"inspections": 3, "points_lost": 9},
               "measures": {"overdue": 1}, "disclosures": {"due": 12, "kept": 11}}
    earned = {code: integrity.component_points(code, f) for code, f in figures.items()}
    assert earned == {"resolution": 2921, "first_response": 900, "resolution_time": 800, "satisfaction": 1320,
                      "reopen": 470, "inspections": 1200, "measures": 400, "disclosures": 916}
    components = [{"code": c, "max": integrity.MAX[c], "earned": e} for c, e in earned.items()]
    assert integrity.total(components) == 8927
    lift = [c for c in components if c["code"] != "disclosures"]
    assert integrity.total(lift) == sum(c["earned"] for c in lift) * 10000 // 9000


def test_a_communitys_tickets_page_by_keyset_as_by_page(d):
    for i in range(7):
        assert d.post(d.owner, f"/api/v1/communities/{d.cid}/tickets", {
            "category": "repair", "subject": "other", "description": f"第 {i} 件", "location": "1号楼"}).status_code == 201
    path = f"/api/v1/communities/{d.cid}/tickets?per_page=3"
    by_page = [t["id"] for p in (1, 2, 3) for t in d.client.get(f"{path}&page={p}", headers=d.staff["headers"]).json["items"]]
    by_key, after = [], None
    while True:
        items = d.client.get(path + (f"&after={after}" if after else ""), headers=d.staff["headers"]).json["items"]
        if not items:
            break
        by_key += [t["id"] for t in items]
        after = items[-1]["id"]
    assert by_key == by_page and len(by_key) == 7


def test_measures_are_answered_reviewed_and_escalate_when_overdue(d):
    made = d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/inspections", {
        "kind": "inspection", "inspected_on": "2026-11-20", "items": [
            {"code": "fire", "title": "消防通道", "passed": False, "points": 5}],
        "measures": [{"level": "rectification_notice", "description": "清理消防通道", "due_on": "2026-11-24"},
                     {"level": "interview", "description": "约谈", "due_on": "2026-12-20"}]}).json
    first, second = (m["id"] for m in made["measures"])
    assert made["points_lost"] == 5 and made["organisation_id"] == d.org
    # the company answers one; the regulator sends it back, so it is open again when it falls due
    assert d.post(d.staff, f"/api/v1/measures/{first}/answers", {"body": "已清理"}).json["status"] == "answered"
    assert d.post(d.owner, f"/api/v1/measures/{first}/answers", {"body": "x"}).status_code == 404
    back = d.post(d.street_regulator, f"/api/v1/measures/{first}/review", {"decision": "reject", "comment": "仍有杂物"})
    assert back.json["status"] == "open"
    from backend.services import inspections

    due = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)  # 25 November 00:00 China
    assert inspections.escalate_measures(due - timedelta(seconds=1)) == []
    assert inspections.escalate_measures(due) == [first]
    assert inspections.escalate_measures(due + timedelta(hours=1)) == []  # once
    detail = d.client.get(f"/api/v1/measures/{first}", headers=d.staff["headers"]).json
    follow = d.client.get(f"/api/v1/measures/{detail['escalated_to_id']}", headers=d.staff["headers"]).json
    assert detail["overdue_at"] and follow["level"] == "interview" and follow["previous_id"] == first
    assert [r["kind"] for r in detail["responses"]] == ["answer", "rejected"]
    assert second != follow["id"]
    report = d.client.get("/api/v1/inspection-progress?month=2026-11", headers=d.street_regulator["headers"]).json
    assert report["streets"] == [{"street_id": d.street, "street_name": "和平街道", "communities": 1, "inspections": 1,
                                  "circulars": 0, "reviews": 0, "complete": False}]
    csv_text = d.client.get("/api/v1/inspection-progress?month=2026-11&format=csv",
                            headers=d.street_regulator["headers"]).data.decode("utf-8-sig")
    assert "和平街道" in csv_text and "否" in csv_text


def test_a_street_scope_reaches_its_own_streets_compounds_only(d, world):
    other_cid, _ = world.standard_community()
    other = d.post(d.admin, "/api/v1/streets", {"name": "解放街道"}).json["id"]
    d.client.put(f"/api/v1/communities/{other_cid}/street", headers=d.admin["headers"], json={"street_id": other})
    mine = d.client.get(f"/api/v1/communities/{d.cid}/parts", headers=d.street_regulator["headers"])
    theirs = d.client.get(f"/api/v1/communities/{other_cid}/parts", headers=d.street_regulator["headers"])
    assert (mine.status_code, theirs.status_code) == (200, 403)
    assert d.client.get(f"/api/v1/communities/{other_cid}/parts", headers=d.district_regulator["headers"]).status_code == 200
    # regulator only: a scope is no committee, no staff
    assert d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/notices", {"title": "t", "body": "b"}).status_code == 403
    dash = d.client.get(f"/api/v1/streets/{other}/dashboard", headers=d.street_regulator["headers"])
    assert dash.status_code == 403


def test_a_lift_contractor_is_scored_on_lift_matters_only(d):
    lift = d.post(d.district_regulator, "/api/v1/organisations", {"kind": "lift_contractor", "name": "快捷电梯",
                                                                  "uscc": valid_uscc(99)}).json["id"]
    assert d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/service-contracts", {
        "organisation_id": lift, "service": "lift", "starts_on": "2026-01-01"}).status_code == 201
    start = datetime(2026, 7, 2, 1, 0, tzinfo=timezone.utc)
    rows = [dict(community_id=d.cid, reporter_id=None, channel="12345", external_id=f"L{i}", category="complaint",
                 subject=subject, description="x", location="1号楼", status="confirmed", created_at=start,
                 updated_at=start, last_activity_at=start, first_response_at=start + timedelta(hours=2),
                 resolved_at=start + timedelta(hours=hours), rating=5, reopen_count=0)
            for i, (subject, hours) in enumerate((("elevator", 10), ("elevator", 100), ("noise", 1)))]
    db.session.execute(db.insert(Ticket), rows)
    db.session.commit()
    d.post(d.street_regulator, f"/api/v1/communities/{d.cid}/inspections", {
        "kind": "inspection", "inspected_on": "2026-08-03", "items": [
            {"code": "clean", "title": "清洁", "passed": False, "points": 7},
            {"code": "lift.cert", "title": "电梯年检", "passed": False, "points": 3}]})
    content = integrity.score_of(lift, "2026-Q3", NOW)
    parts = {c["code"]: c for c in content["components"]}
    assert "disclosures" not in parts and parts["first_response"]["figures"]["tickets"] == 2  # elevator only
    assert parts["resolution_time"]["earned"] == 500 and parts["inspections"]["figures"]["points_lost"] == 3
    assert content["score"] == sum(c["earned"] for c in content["components"]) * 10000 // 9000
    breakdown = d.client.get(f"/api/v1/organisations/{lift}/integrity/2026-Q3", headers=d.street_regulator["headers"])
    assert breakdown.status_code == 200 and breakdown.json["frozen"] is False
    assert breakdown.json["content"]["components"][0]["records"]["complaints"] == sorted(
        t.id for t in db.session.execute(db.select(Ticket).where(Ticket.subject == "elevator")).scalars())


def test_the_commands_take_now_and_are_idempotent(d, app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["weekly-rollup", "--now", "2026-11-25T04:00:00Z"])
    again = runner.invoke(args=["weekly-rollup", "--now", "2026-11-25T05:00:00Z"])
    assert first.exit_code == 0 and "2026-W47" in first.output and first.output == again.output
    assess = runner.invoke(args=["integrity-assess", "--now", "2026-10-02T00:00:00Z"])
    assert assess.exit_code == 0 and "2026-Q3: 1 scores published" in assess.output, assess.output
    assert "0 scores published" in runner.invoke(args=["integrity-assess", "--now", "2026-10-03T00:00:00Z"]).output
    lists = runner.invoke(args=["integrity-year-lists", "--now", "2027-01-05T00:00:00Z"])
    assert lists.exit_code == 0 and "property_company: version 1" in lists.output
    assert "already published" in runner.invoke(args=["integrity-year-lists", "--now", "2027-01-06T00:00:00Z"]).output
    assert runner.invoke(args=["measures-escalate", "--now", "2026-11-25T04:00:00Z"]).output.startswith("escalated 0")


def test_hotline_orders_from_an_xlsx_export(d):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["工单编号", "受理时间", "事发地址", "诉求内容", "诉求类型"])
    ws.append(["X-1", datetime(2026, 11, 19, 8, 0), f"{d.name()}2幢", "小区停车位被占", "举报"])
    buf = io.BytesIO()
    wb.save(buf)
    report = d.client.post("/api/v1/hotline-imports", headers=d.district_regulator["headers"],
                           data={"file": (io.BytesIO(buf.getvalue()), "export.xlsx")},
                           content_type="multipart/form-data").json
    assert report["imported"] == 1, report
    ticket = db.session.get(Ticket, report["ticket_ids"][0])
    assert (ticket.subject, ticket.category, ticket.channel) == ("parking", "complaint", "12345")
    assert ticket.created_at == datetime(2026, 11, 19, 0, 0, tzinfo=timezone.utc)


def test_a_settlement_needs_its_agreement_document(d):
    from PIL import Image

    dispute = d.post(d.owner, f"/api/v1/communities/{d.cid}/disputes", {"title": "漏水", "description": "楼上漏水"}).json
    path = f"/api/v1/disputes/{dispute['id']}/records"
    missing = d.post(d.committee, path, {"outcome": "settled", "note": "双方同意赔偿"})
    assert missing.status_code == 422 and "agreement_media_id" in missing.json["error"]["details"]["fields"]
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 200, 200)).save(buf, "PNG")
    media = d.client.post("/api/v1/media", headers=d.committee["headers"], content_type="multipart/form-data",
                          data={"file": (io.BytesIO(buf.getvalue()), "agreement.png")}).json["id"]
    settled = d.post(d.committee, path, {"outcome": "settled", "note": "双方同意赔偿", "agreement_media_id": media})
    assert settled.status_code == 201 and settled.json["status"] == "settled"
    record = settled.json["records"][-1]
    assert (record["action"], record["actor_role"], record["agreement_media_id"]) == ("settled", "committee", media)
    assert d.client.get(f"/api/v1/media/{media}/info", headers=d.owner["headers"]).status_code == 200
    again = d.post(d.committee, path, {"outcome": "session", "note": "再谈"})
    assert again.status_code == 409 and again.json["error"]["code"] == "dispute_closed"
