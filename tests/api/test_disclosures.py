"""The five disclosures, an owner's fees, public-revenue statements and emergency fund records,
end to end over HTTP (docs/disclosures.md)."""
import copy
import hashlib
from fractions import Fraction

import pytest

from backend.models.base import utcnow
from tests.api.publishing import APPORTIONMENT, CONTENT, FEE_ITEMS, FEE_STANDARDS, PHONES, REVENUE, bind, other_community, upload
from voting.canonical import canonical
from voting.keys import verify_object

AREAS = {"1-1-101": 8950, "1-1-102": 9530, "1-2-201": 12000, "2-1-101": 7605, "2-1-102": 7605, "2-1-103": 14316}


@pytest.fixture
def place(world):
    """The standard community with a clerk, a committee member, a resident and an owner of two flats."""
    cid, _ = world.standard_community()
    zhang = world.owner(cid, "1", "1", "101", "张伟", PHONES["张伟"])
    bind(world, zhang, cid, "1", "2", "201", "张伟")
    return {"cid": cid, "clerk": world.member(cid, "property_staff"), "committee": world.member(cid, "committee"),
            "resident": world.member(cid, "resident"), "owner": zhang}


def url(cid, tail=""):
    return f"/api/v1/communities/{cid}/{tail}"


def publish(client, user, cid, kind, content, **extra):
    return client.post(url(cid, "disclosures"), headers=user["headers"], json={"kind": kind, "content": content, **extra})


def publish_all(client, place):
    for kind, content in CONTENT.items():
        resp = publish(client, place["clerk"], place["cid"], kind, content)
        assert resp.status_code == 201, (kind, resp.json)


def fields(resp):
    assert resp.status_code == 422, resp.json
    return resp.json["error"]["details"]["fields"]


def test_clerk_publishes_all_five_and_residents_read_them(client, place):
    cid = place["cid"]
    empty = client.get(url(cid, "disclosures"), headers=place["resident"]["headers"]).json
    assert [k["kind"] for k in empty["kinds"]] == list(CONTENT) and all(k["current"] is None for k in empty["kinds"])
    publish_all(client, place)
    for reader in ("resident", "owner", "committee"):
        resp = client.get(url(cid, "disclosures"), headers=place[reader]["headers"])
        assert resp.status_code == 200
        kinds = {k["kind"]: k for k in resp.json["kinds"]}
        assert kinds["fee_items"]["title"] == "收费项目"
        assert kinds["service_content"]["current"]["content"] == CONTENT["service_content"]
        assert all(k["current"]["version"] == 1 for k in kinds.values())


def test_version_is_hashed_and_signed_by_the_server(client, place):
    resp = publish(client, place["clerk"], place["cid"], "service_standard", CONTENT["service_standard"])
    body = resp.json
    assert body["content_sha256"] == hashlib.sha256(canonical(body["content"])).hexdigest()
    signed = body["signed"]
    assert verify_object(body["server_key"], signed)
    assert {k: signed[k] for k in ("community_id", "kind", "version", "content_sha256", "published_at", "author_id")} == {
        "community_id": place["cid"], "kind": "service_standard", "version": 1,
        "content_sha256": body["content_sha256"], "published_at": body["published_at"], "author_id": place["clerk"]["id"]}
    assert signed["type"] == "linli-publication/1" and signed["previous_sha256"] is None
    tampered = {**signed, "content_sha256": "0" * 64}
    assert not verify_object(body["server_key"], tampered)


def test_correction_is_a_new_version_with_history_and_diff(client, place):
    cid, clerk = place["cid"], place["clerk"]
    first = publish(client, clerk, cid, "fee_items", FEE_ITEMS).json
    corrected = copy.deepcopy(FEE_ITEMS)
    corrected["items"][1]["name"] = "垃圾清运费"
    corrected["items"].insert(0, {"code": "elevator", "name": "电梯运行费", "basis": "per_m2_month", "mandatory": True})
    del corrected["items"][3]  # parking
    resp = publish(client, clerk, cid, "fee_items", corrected, note="更正：垃圾清运费名称；增加电梯运行费")
    assert resp.status_code == 201
    second = resp.json
    assert second["version"] == 2 and second["previous_sha256"] == first["content_sha256"]
    assert second["note"].startswith("更正") and second["signed"]["note"] == second["note"]

    versions = client.get(url(cid, "disclosures/fee_items/versions"), headers=place["resident"]["headers"]).json
    assert [v["version"] for v in versions["items"]] == [2, 1] and versions["total"] == 2
    old = client.get(url(cid, "disclosures/fee_items/versions/1"), headers=place["owner"]["headers"])
    assert old.status_code == 200 and old.json["content"] == FEE_ITEMS  # immutable: still the original

    diff = client.get(url(cid, "disclosures/fee_items/diff?from=1&to=2"), headers=place["resident"]["headers"])
    assert diff.status_code == 200
    assert diff.json["from"]["version"] == 1 and diff.json["to"]["version"] == 2
    assert diff.json["changes"] == [
        {"path": "/items/0", "op": "added", "old": None, "new": corrected["items"][0]},
        {"path": "/items/2/name", "op": "changed", "old": "生活垃圾清运费", "new": "垃圾清运费"},
        {"path": "/items/2", "op": "removed", "old": FEE_ITEMS["items"][2], "new": None},
    ]
    back = client.get(url(cid, "disclosures/fee_items/diff?from=2&to=1"), headers=place["resident"]["headers"]).json
    assert {c["op"] for c in back["changes"]} == {"added", "removed", "changed"}
    same = client.get(url(cid, "disclosures/fee_items/diff?from=2&to=2"), headers=place["resident"]["headers"]).json
    assert same["changes"] == []
    missing = client.get(url(cid, "disclosures/fee_items/diff?from=1&to=3"), headers=place["resident"]["headers"])
    assert missing.status_code == 404 and missing.json["error"]["code"] == "version_not_found"
    assert client.get(url(cid, "disclosures/fee_items/diff?from=1"), headers=place["resident"]["headers"]).status_code == 422


def test_publishing_the_same_content_twice_is_refused(client, place):
    assert publish(client, place["clerk"], place["cid"], "service_content", CONTENT["service_content"]).status_code == 201
    resp = publish(client, place["clerk"], place["cid"], "service_content", CONTENT["service_content"])
    assert resp.status_code == 409 and resp.json["error"]["code"] == "version_unchanged"


def test_only_property_staff_publish_disclosures(client, world, place):
    cid = place["cid"]
    for who in ("committee", "resident", "owner"):
        resp = publish(client, place[who], cid, "service_content", CONTENT["service_content"])
        assert resp.status_code == 403, who
    regulator = world.member(cid, "regulator")
    assert publish(client, regulator, cid, "service_content", CONTENT["service_content"]).status_code == 403
    assert client.post(url(cid, "disclosures"), json={"kind": "service_content", "content": {}}).status_code == 401
    assert client.get(url(cid, "disclosures/service_content/versions"), headers=regulator["headers"]).status_code == 200


def test_another_community_sees_nothing(client, world, place):
    publish_all(client, place)
    elsewhere = other_community(world)
    outsider_clerk = world.member(elsewhere, "property_staff")
    outsider = world.member(elsewhere, "committee")
    cid = place["cid"]
    for path in ("disclosures", "disclosures/fee_items/versions", "disclosures/fee_items/versions/1",
                 "disclosures/fee_items/diff?from=1&to=1", "my-fees", "revenue-statements",
                 "revenue-statements/2025-H1/versions", "revenue-statements/2025-H1/versions/1",
                 "revenue-statements/2025-H1/diff?from=1&to=1", "emergency-spending", "emergency-spending/1"):
        for user in (outsider, outsider_clerk):
            resp = client.get(url(cid, path), headers=user["headers"])
            assert resp.status_code == 403, (path, resp.json)
    assert publish(client, outsider_clerk, cid, "service_content", {"items": []}).status_code == 403
    assert client.post(url(cid, "revenue-statements"), headers=outsider["headers"],
                       json={"content": REVENUE}).status_code == 403
    assert client.post(url(cid, "emergency-spending"), headers=outsider_clerk["headers"],
                       json=spending()).status_code == 403
    # and the other community's own list is empty
    mine = client.get(url(elsewhere, "disclosures"), headers=outsider["headers"]).json
    assert all(k["current"] is None for k in mine["kinds"])


@pytest.mark.parametrize("kind, content, field", [
    ("fee_standards", {**FEE_STANDARDS, "prices": [{**FEE_STANDARDS["prices"][0], "price_fen": -1}]},
     "content.prices.0.price_fen"),
    ("fee_standards", {**FEE_STANDARDS, "prices": [{**FEE_STANDARDS["prices"][0], "price_fen": 2.35}]},
     "content.prices.0.price_fen"),
    ("fee_standards", {**FEE_STANDARDS, "effective_date": "2025-02-30"}, "content.effective_date"),
    ("fee_standards", {**FEE_STANDARDS, "buildings": [{"building": "1", "type": "castle"}]}, "content.buildings.0.type"),
    ("fee_standards", {**FEE_STANDARDS, "prices": FEE_STANDARDS["prices"] + [FEE_STANDARDS["prices"][0]]},
     "content.prices.5.building_type"),
    ("fee_items", {"items": [{**FEE_ITEMS["items"][0], "basis": "per_year"}]}, "content.items.0.basis"),
    ("fee_items", {"items": FEE_ITEMS["items"] + [FEE_ITEMS["items"][0]]}, "content.items.3.code"),
    ("fee_items", {"items": [{**FEE_ITEMS["items"][0], "mandatory": "yes"}]}, "content.items.0.mandatory"),
    ("fee_items", {"items": [{**FEE_ITEMS["items"][0], "mandatory": 1}]}, "content.items.0.mandatory"),
    ("service_content", {"items": []}, "content.items"),
    ("service_content", {"items": [{"name": "保洁", "description": "  ", "frequency": "每日"}]},
     "content.items.0.description"),
    ("service_content", {**CONTENT["service_content"], "colour": "red"}, "content.colour"),
    ("service_standard", {"grade": "一级"}, "content.clauses"),
    ("utility_apportionment", {**APPORTIONMENT, "period": "2999-01"}, "content.period"),
    ("utility_apportionment", {**APPORTIONMENT, "period": "2025-13"}, "content.period"),
    ("utility_apportionment", {**APPORTIONMENT, "total_fen": -5}, "content.total_fen"),
    ("utility_apportionment", {**APPORTIONMENT, "method": "by_mood"}, "content.method"),
    ("utility_apportionment", {**APPORTIONMENT, "method": "metered"}, "content.shares"),
    ("utility_apportionment", {**APPORTIONMENT, "installations": []}, "content.installations"),
    ("utility_apportionment", {**APPORTIONMENT, "rounding": "metered"}, "content.rounding"),
])
def test_bad_content_is_422_naming_the_field(client, place, kind, content, field):
    if kind == "fee_standards":
        publish(client, place["clerk"], place["cid"], "fee_items", FEE_ITEMS)
    assert field in fields(publish(client, place["clerk"], place["cid"], kind, content))


def test_unknown_kind_and_malformed_request(client, place):
    assert "kind" in fields(publish(client, place["clerk"], place["cid"], "gossip", {"x": 1}))
    assert "kind" in fields(publish(client, place["clerk"], place["cid"], "revenue_statement", REVENUE))
    assert "content" in fields(client.post(url(place["cid"], "disclosures"), headers=place["clerk"]["headers"],
                                           json={"kind": "fee_items", "content": [1, 2]}))
    assert "kind" in fields(client.post(url(place["cid"], "disclosures"), headers=place["clerk"]["headers"],
                                        json={"content": {}}))
    resp = client.get(url(place["cid"], "disclosures/gossip/versions"), headers=place["resident"]["headers"])
    assert resp.status_code == 404 and resp.json["error"]["code"] == "disclosure_kind_not_found"


def test_fee_standards_must_price_published_items_in_registered_buildings(client, place):
    cid, clerk = place["cid"], place["clerk"]
    assert "content.prices.0.item_code" in fields(publish(client, clerk, cid, "fee_standards", FEE_STANDARDS))
    publish(client, clerk, cid, "fee_items", FEE_ITEMS)
    wrong = {**FEE_STANDARDS, "buildings": [{"building": "7", "type": "villa"}]}
    assert "content.buildings.0.building" in fields(publish(client, clerk, cid, "fee_standards", wrong))
    assert publish(client, clerk, cid, "fee_standards", FEE_STANDARDS).status_code == 201


def test_apportionment_by_area_is_computed_by_largest_remainder(client, place):
    resp = publish(client, place["clerk"], place["cid"], "utility_apportionment", APPORTIONMENT)
    assert resp.status_code == 201, resp.json
    content = resp.json["content"]
    assert content["rounding"] == "largest_remainder" and content["buildings"] == []
    shares = {s["label"]: s for s in content["shares"]}
    assert set(shares) == set(AREAS)
    assert sum(s["amount_fen"] for s in shares.values()) == APPORTIONMENT["total_fen"]
    whole = sum(AREAS.values())
    for label, area in AREAS.items():
        assert shares[label]["area"] == area
        assert abs(shares[label]["amount_fen"] - Fraction(APPORTIONMENT["total_fen"] * area, whole)) < 1


def test_apportionment_sent_shares_are_checked(client, place):
    cid, clerk = place["cid"], place["clerk"]
    computed = publish(client, clerk, cid, "utility_apportionment", APPORTIONMENT).json["content"]
    # Sending back exactly what the server computed (a correction made from the current version) works.
    again = {**computed, "installations": ["电梯", "楼道灯"]}
    assert publish(client, clerk, cid, "utility_apportionment", again).status_code == 201
    # Shares that do not add up to the total.
    short = {**again, "installations": ["电梯"], "shares": [{**s} for s in computed["shares"]]}
    short["shares"][0]["amount_fen"] -= 1
    assert fields(publish(client, clerk, cid, "utility_apportionment", short)) == {
        "content.shares": ["各户分摊合计 100000 分，与总额 100001 分不符"]}
    # Shares that add up but are not what by_area gives.
    moved = {**short, "shares": [{**s} for s in short["shares"]]}
    moved["shares"][1]["amount_fen"] += 1
    assert set(fields(publish(client, clerk, cid, "utility_apportionment", moved))) == {
        "content.shares.0.amount_fen", "content.shares.1.amount_fen"}
    # A part not in the registry, and one named twice.
    stranger = {**APPORTIONMENT, "method": "metered", "shares": [{"label": "8-8-808", "amount_fen": 100001}]}
    assert "content.shares.0.label" in fields(publish(client, clerk, cid, "utility_apportionment", stranger))
    first = computed["shares"][0]["part_id"]
    twice = {**APPORTIONMENT, "method": "metered", "shares": [{"part_id": first, "amount_fen": 1},
                                                              {"part_id": first, "amount_fen": 100000}]}
    assert "content.shares.1.part_id" in fields(publish(client, clerk, cid, "utility_apportionment", twice))
    nameless = {**APPORTIONMENT, "method": "metered", "shares": [{"amount_fen": 100001}]}
    assert "content.shares.0.part_id" in fields(publish(client, clerk, cid, "utility_apportionment", nameless))


def test_apportionment_metered_and_equal_within_buildings(client, place):
    cid, clerk = place["cid"], place["clerk"]
    equal = {**APPORTIONMENT, "method": "equal", "total_fen": 1000, "buildings": ["2"]}
    content = publish(client, clerk, cid, "utility_apportionment", equal).json["content"]
    # 1000 / 3 = 333⅓: equal remainders, so the first part in registry order gets the extra fen.
    assert [(s["label"], s["amount_fen"]) for s in content["shares"]] == [
        ("2-1-101", 334), ("2-1-102", 333), ("2-1-103", 333)]
    assert "content.buildings.0" in fields(publish(client, clerk, cid, "utility_apportionment",
                                                   {**equal, "buildings": ["9"]}))
    metered = {**APPORTIONMENT, "method": "metered", "total_fen": 700,
               "shares": [{"label": "1-1-102", "amount_fen": 400}, {"label": "1-1-101", "amount_fen": 300}]}
    content = publish(client, clerk, cid, "utility_apportionment", metered).json["content"]
    assert content["rounding"] == "metered"
    assert [(s["label"], s["amount_fen"]) for s in content["shares"]] == [("1-1-101", 300), ("1-1-102", 400)]
    outside = {**metered, "buildings": ["2"]}
    assert "content.shares.0.label" in fields(publish(client, clerk, cid, "utility_apportionment", outside))


def test_my_fees_from_area_standards_and_apportionment(client, world, place):
    cid = place["cid"]
    publish_all(client, place)
    resp = client.get(url(cid, "my-fees"), headers=place["owner"]["headers"])
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["fee_standards"] == {"version": 1, "effective_date": "2025-01-01",
                                     "filing_reference": FEE_STANDARDS["filing_reference"]}
    assert "half up" in body["rounding"]
    parts = {p["label"]: p for p in body["parts"]}
    assert set(parts) == {"1-1-101", "1-2-201"}
    flat = parts["1-1-101"]
    assert flat["building_type"] == "high_rise"
    # 89.50 m² × 2.35 元 = 210.325 元 → 21032.5 fen → 21033 (half up); per-use parking is not monthly.
    assert [(f["code"], f["monthly_fen"]) for f in flat["fees"]] == [("property_service", 21033), ("waste", 500)]
    assert flat["monthly_total_fen"] == 21533 and parts["1-2-201"]["monthly_total_fen"] == 28200 + 500
    assert body["monthly_total_fen"] == 21533 + 28700
    shares = {s["label"]: s["amount_fen"] for s in
              client.get(url(cid, "disclosures"), headers=place["owner"]["headers"]).json["kinds"][4]["current"]["content"]["shares"]}
    assert flat["apportionment_fen"] == shares["1-1-101"]
    assert body["apportionment_total_fen"] == shares["1-1-101"] + shares["1-2-201"]
    assert body["apportionment"]["period"] == "2025-03" and body["apportionment"]["rounding"] == "largest_remainder"

    zhao = world.owner(cid, "2", "1", "103", "赵敏", PHONES["赵敏"])
    other = client.get(url(cid, "my-fees"), headers=zhao["headers"]).json["parts"][0]
    # building 2 is not listed: the default type; 143.16 × 1.49 = 213.3084 元 → 21331 fen
    assert other["building_type"] == "multi_storey" and other["monthly_total_fen"] == 21331 + 500


def test_my_fees_is_for_owners_and_copes_with_nothing_published(client, place):
    cid = place["cid"]
    for who in ("resident", "clerk", "committee"):
        resp = client.get(url(cid, "my-fees"), headers=place[who]["headers"])
        assert resp.status_code == 403, who
    body = client.get(url(cid, "my-fees"), headers=place["owner"]["headers"]).json
    assert body["fee_standards"] is None and body["apportionment"] is None
    assert [p["fees"] for p in body["parts"]] == [[], []] and body["monthly_total_fen"] == 0


# ---------------------------------------------------------------- public-revenue statements


def test_committee_publishes_revenue_statements_with_computed_balance(client, place):
    cid, committee = place["cid"], place["committee"]
    resp = client.post(url(cid, "revenue-statements"), headers=committee["headers"], json={"content": REVENUE})
    assert resp.status_code == 201, resp.json
    content = resp.json["content"]
    assert (content["income_total_fen"], content["expense_total_fen"], content["closing_balance_fen"]) == (
        900000, 80000, 1820000)
    assert resp.json["series"] == "2025-H1" and resp.json["kind"] == "revenue_statement"
    assert verify_object(resp.json["server_key"], resp.json["signed"])

    wrong = {**REVENUE, "closing_balance_fen": 1820001, "income_total_fen": 900000}
    assert fields(client.post(url(cid, "revenue-statements"), headers=committee["headers"], json={"content": wrong})) == {
        "content.closing_balance_fen": ["应为 1820000（按收支明细计算）"]}

    corrected = {**REVENUE, "expenses": REVENUE["expenses"] + [
        {"category": "tax", "description": "增值税", "amount_fen": 27000}]}
    second = client.post(url(cid, "revenue-statements"), headers=committee["headers"],
                         json={"content": corrected, "note": "补记税费"})
    assert second.status_code == 201 and second.json["version"] == 2
    later = {**REVENUE, "period": "2025-H2", "opening_balance_fen": second.json["content"]["closing_balance_fen"]}
    assert client.post(url(cid, "revenue-statements"), headers=committee["headers"],
                       json={"content": later}).json["version"] == 1

    listing = client.get(url(cid, "revenue-statements"), headers=place["resident"]["headers"]).json
    assert [(s["series"], s["version"]) for s in listing["items"]] == [("2025-H2", 1), ("2025-H1", 2)]
    history = client.get(url(cid, "revenue-statements/2025-H1/versions"), headers=place["owner"]["headers"]).json
    assert [v["version"] for v in history["items"]] == [2, 1]
    diff = client.get(url(cid, "revenue-statements/2025-H1/diff?from=1&to=2"), headers=place["owner"]["headers"]).json
    assert {c["path"]: c["op"] for c in diff["changes"]} == {
        "/closing_balance_fen": "changed", "/expense_total_fen": "changed", "/expenses/1": "added"}
    assert client.get(url(cid, "revenue-statements/2019-H1/versions"),
                      headers=place["owner"]["headers"]).status_code == 404


def test_revenue_statement_rules(client, place):
    cid = place["cid"]
    for who in ("clerk", "owner", "resident"):
        resp = client.post(url(cid, "revenue-statements"), headers=place[who]["headers"], json={"content": REVENUE})
        assert resp.status_code == 403, who
    post = lambda content: client.post(url(cid, "revenue-statements"), headers=place["committee"]["headers"],
                                       json={"content": content})
    future = f"{utcnow().year + 1}-H1"
    assert "content.period" in fields(post({**REVENUE, "period": future}))
    assert "content.period" in fields(post({**REVENUE, "period": "2025-H3"}))
    assert "content.income.0.amount_fen" in fields(post({**REVENUE, "income": [{**REVENUE["income"][0], "amount_fen": -1}]}))
    assert "content.income.0.category" in fields(post({**REVENUE, "income": [{**REVENUE["income"][0], "category": "lottery"}]}))


# ---------------------------------------------------------------- attachments


def test_versions_carry_attachments_under_the_signature(client, place):
    cid, clerk = place["cid"], place["clerk"]
    document = upload(client, clerk, purpose="document")
    resp = publish(client, clerk, cid, "fee_items", FEE_ITEMS,
                   attachment_ids=[document])
    assert resp.status_code == 201, resp.json
    [attachment] = resp.json["attachments"]
    assert attachment["media_id"] == document and len(attachment["sha256"]) == 64
    assert resp.json["signed"]["attachments"] == [attachment]
    info = client.get(f"/api/v1/media/{document}/info", headers=place["resident"]["headers"])
    assert info.status_code == 200
    # a file already attached elsewhere, or someone else's upload, is refused by name, and nothing is published
    again = publish(client, clerk, cid, "service_content", CONTENT["service_content"], attachment_ids=[document])
    assert "attachment_ids" in fields(again)
    assert client.get(url(cid, "disclosures/service_content/versions"),
                      headers=clerk["headers"]).json["total"] == 0
    theirs = upload(client, place["committee"])
    assert "attachment_ids" in fields(publish(client, clerk, cid, "service_content", CONTENT["service_content"],
                                              attachment_ids=[theirs]))
    statement = client.post(url(cid, "revenue-statements"), headers=place["committee"]["headers"],
                            json={"content": REVENUE, "attachment_ids": [theirs]})
    assert statement.status_code == 201 and statement.json["attachments"][0]["media_id"] == theirs


# ---------------------------------------------------------------- emergency fund spending


def spending(**overrides):
    return {"amount_fen": 1280000, "reason": "3 号楼 1 单元电梯曳引机故障，紧急更换", "contractor": "北京某电梯维保公司",
            "location": "3 号楼 1 单元", "spent_on": "2025-05-06", "street_office_reference": "朝街应急〔2025〕7 号",
            "street_office_confirmed_on": "2025-05-05", **overrides}


def test_emergency_spending_recorded_with_photos_and_listed(client, world, place):
    cid = place["cid"]
    photo = upload(client, place["clerk"])
    resp = client.post(url(cid, "emergency-spending"), headers=place["clerk"]["headers"],
                       json=spending(photo_ids=[photo]))
    assert resp.status_code == 201, resp.json
    assert resp.json["photo_ids"] == [photo] and resp.json["recorder_role"] == "property_staff"
    later = client.post(url(cid, "emergency-spending"), headers=place["committee"]["headers"],
                        json=spending(amount_fen=5000, spent_on="2025-06-01"))
    assert later.status_code == 201 and later.json["recorder_role"] == "committee"
    listing = client.get(url(cid, "emergency-spending"), headers=place["owner"]["headers"]).json
    assert [r["amount_fen"] for r in listing["items"]] == [5000, 1280000] and listing["total"] == 2
    one = client.get(url(cid, f"emergency-spending/{resp.json['id']}"), headers=place["resident"]["headers"])
    assert one.status_code == 200 and one.json["street_office_reference"] == "朝街应急〔2025〕7 号"
    assert client.get(f"/api/v1/media/{photo}/info", headers=place["owner"]["headers"]).status_code == 200
    elsewhere = other_community(world)
    outsider = world.member(elsewhere, "committee")
    assert client.get(f"/api/v1/media/{photo}/info", headers=outsider["headers"]).status_code == 403
    assert client.get(url(elsewhere, f"emergency-spending/{resp.json['id']}"),
                      headers=outsider["headers"]).status_code == 404


def test_emergency_spending_rules(client, place):
    cid = place["cid"]
    post = lambda user, body: client.post(url(cid, "emergency-spending"), headers=user["headers"], json=body)
    for who in ("owner", "resident"):
        assert post(place[who], spending()).status_code == 403
    future = f"{utcnow().year + 1}-01-01"
    assert set(fields(post(place["clerk"], spending(spent_on=future, street_office_confirmed_on=future)))) == {
        "spent_on", "street_office_confirmed_on"}
    assert "amount_fen" in fields(post(place["clerk"], spending(amount_fen=0)))
    assert "amount_fen" in fields(post(place["clerk"], spending(amount_fen=12.5)))
    assert "contractor" in fields(post(place["clerk"], spending(contractor=" ")))
    assert "photo_ids" in fields(post(place["clerk"], spending(photo_ids=[999999])))
    assert "reason" in fields(post(place["clerk"], spending(reason="电梯\x00故障")))  # PostgreSQL cannot store NUL
    assert client.get(url(cid, "emergency-spending"), headers=place["clerk"]["headers"]).json["total"] == 0
    # found by schemathesis on PostgreSQL: more than 2^31 fen (21 million yuan) overflowed an int4 column
    big = post(place["clerk"], spending(amount_fen=62_846_270_893))
    assert big.status_code == 201 and big.json["amount_fen"] == 62_846_270_893


def test_text_is_nfc_normalised_and_unencodable_text_refused(client, place):
    cid, clerk = place["cid"], place["clerk"]
    decomposed = {"items": [{"name": "Cafe\u0301 保洁", "description": "x", "frequency": "每日"}]}
    resp = publish(client, clerk, cid, "service_content", decomposed)
    assert resp.status_code == 201 and resp.json["content"]["items"][0]["name"] == "Caf\u00e9 保洁"
    assert resp.json["content_sha256"] == hashlib.sha256(canonical(resp.json["content"])).hexdigest()
    surrogate = {"items": [{"name": "\ud800", "description": "x", "frequency": "每日"}]}
    assert "content" in fields(publish(client, clerk, cid, "service_content", surrogate))
    assert "note" in fields(publish(client, clerk, cid, "service_standard", CONTENT["service_standard"], note="\udfff"))


def test_amounts_beyond_exact_json_integers_are_refused(client, place):
    big = 2**53 - 1
    statement = {**REVENUE, "income": [{"category": "other", "description": "a", "amount_fen": big},
                                       {"category": "other", "description": "b", "amount_fen": big}]}
    resp = client.post(url(place["cid"], "revenue-statements"), headers=place["committee"]["headers"],
                       json={"content": statement})
    assert "content.income_total_fen" in fields(resp)
    too_big = {**APPORTIONMENT, "total_fen": 2**53}
    assert "content.total_fen" in fields(publish(client, place["clerk"], place["cid"], "utility_apportionment", too_big))
