"""Ticket statistics on a generated data set with controlled timestamps, checked against a
computation written here from the definitions in docs/tickets.md (not from the service)."""
import csv
import io
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from backend.extensions import db
from backend.models import User
from backend.services import tickets
from backend.services.ticket_stats import nearest_rank

CHINA = timezone(timedelta(hours=8))
# The period asked for: Monday 2 March to Sunday 29 March 2026, whole days in China time.
FROM, TO = "2026-03-02", "2026-03-29"
START = datetime(2026, 3, 2, tzinfo=CHINA).astimezone(timezone.utc)
END = datetime(2026, 3, 30, tzinfo=CHINA).astimezone(timezone.utc)
SUBJECTS = ("elevator", "noise", "parking", "sanitation", "fire_lane")
STATUSES = ("submitted", "accepted", "in_progress", "resolved", "confirmed", "reopened")


def user(u):
    return db.session.get(User, u["id"])


class Generator:
    """Files and moves tickets through the services at chosen times, and keeps its own record."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.records = []

    def ticket(self, cid, reporter, staff, created, category=None, subject=None, story=None):
        rng = self.rng
        category = category or rng.choice(("complaint", "complaint", "repair", "suggestion"))
        subject = subject or rng.choice(SUBJECTS)
        t = tickets.file_ticket(reporter, cid, category, subject, "描述", location="公共区域", now=created)
        rec = {"id": t.id, "cid": cid, "category": category, "subject": subject, "created": created,
               "status": "submitted", "first_staff": None, "resolved_ever": False, "reopened": False,
               "rating": None}
        self.records.append(rec)
        clock = [created]

        def later(limit=900):
            clock[0] += timedelta(minutes=rng.randint(1, limit))
            return clock[0]

        def move(to, actor, **kw):
            at = later()
            tickets.transition(actor, t.id, to, now=at, **kw)
            rec["status"] = to
            return at

        if rng.random() < 0.3:  # staff ask a question before accepting: that is the first response
            rec["first_staff"] = later(600)
            tickets.add_reply(staff, t.id, "请补充具体位置", now=rec["first_staff"])
        if rng.random() < 0.3:  # the resident's own messages never count as a response
            tickets.add_reply(reporter, t.id, "补充：在地下一层", now=later(60))
        story = story or rng.choice(("submitted", "accepted", "in_progress", "resolved", "confirmed", "confirmed",
                                     "reopened", "reopened_then_confirmed"))
        if story == "submitted":
            return rec
        accepted_at = move("accepted", staff)
        rec["first_staff"] = rec["first_staff"] or accepted_at
        if story == "accepted":
            return rec
        move("in_progress", staff)
        if story == "in_progress":
            return rec
        move("resolved", staff, comment="已处理")
        rec["resolved_ever"] = True
        if story.startswith("reopened"):
            move("reopened", reporter, reason="问题依旧")
            rec["reopened"] = True
            if story == "reopened":
                return rec
            move("in_progress", staff)
            move("resolved", staff, comment="再次处理")
        if story in ("confirmed", "reopened_then_confirmed"):
            rec["rating"] = rng.randint(1, 5)
            move("confirmed", reporter, rating=rec["rating"])
        return rec


def week_of(moment):
    local = (moment + timedelta(hours=8)).replace(tzinfo=None)  # China has no daylight saving
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def ceil_rank(values, percent):
    if not values:
        return None
    k = -(-percent * len(values) // 100)  # integer ceiling of p·n/100
    return values[k - 1]


def expected(records, cid, names, hot_spot_communities, start=START, end=END):
    cohort = [r for r in records if r["cid"] == cid and start <= r["created"] < end]
    done = {"resolved", "confirmed"}
    complaints = [r for r in cohort if r["category"] == "complaint"]
    waits = sorted(int((r["first_staff"] - r["created"]).total_seconds()) for r in cohort if r["first_staff"])
    rated = [r["rating"] for r in cohort if r["rating"] is not None]
    resolved_ever = [r for r in cohort if r["resolved_ever"]]

    def ratio(a, b):
        return round(a / b, 4) if b else None

    spots = Counter((r["cid"], r["subject"], week_of(r["created"])) for r in records
                    if r["cid"] in hot_spot_communities and r["category"] == "complaint"
                    and start <= r["created"] < end)
    return {
        "total": len(cohort),
        "by_status": {s: sum(r["status"] == s for r in cohort) for s in STATUSES},
        "by_category": {c: sum(r["category"] == c for r in cohort) for c in ("repair", "complaint", "suggestion")},
        "by_subject_nonzero": {s: n for s, n in Counter(r["subject"] for r in cohort).items()},
        "first_response": {"responded": len(waits), "waiting": len(cohort) - len(waits),
                           "median_seconds": ceil_rank(waits, 50), "p90_seconds": ceil_rank(waits, 90),
                           "method": "nearest-rank"},
        "resolution": {
            "all": {"resolved": sum(r["status"] in done for r in cohort), "total": len(cohort),
                    "rate": ratio(sum(r["status"] in done for r in cohort), len(cohort))},
            "complaints": {"resolved": sum(r["status"] in done for r in complaints), "total": len(complaints),
                           "rate": ratio(sum(r["status"] in done for r in complaints), len(complaints))},
        },
        "satisfaction": {"satisfied": sum(x >= 4 for x in rated), "rated": len(rated),
                         "rate": ratio(sum(x >= 4 for x in rated), len(rated))},
        "reopen": {"reopened": sum(r["reopened"] for r in resolved_ever), "resolved": len(resolved_ever),
                   "rate": ratio(sum(r["reopened"] for r in resolved_ever), len(resolved_ever))},
        "hot_spots": sorted(
            ({"community_id": c, "community_name": names[c], "subject": s, "week": w, "complaints": n}
             for (c, s, w), n in spots.items() if n >= 2),
            key=lambda h: (h["week"], h["community_id"], h["subject"])),
    }


@pytest.fixture
def data(world):
    """Three communities: A and B regulated by one regulator, C by nobody here; ~90 tickets around
    the period with random stories, plus hand-placed complaints for the week rules."""
    cids = [world.community(f"小区{x}") for x in "ABC"]
    names = dict(zip(cids, ("小区A", "小区B", "小区C")))
    people = {}
    for cid in cids:
        people[cid] = {"reporter": world.member(cid, "resident"), "staff": world.member(cid, "property_staff")}
    a, b, c = cids
    regulator = world.member(a, "regulator")
    world.member(b, "regulator", user=regulator)
    committee = world.member(a, "committee")
    gen = Generator(seed=7)
    span = int((END - START).total_seconds() // 60)
    for i in range(90):
        cid = a if i < 60 else b
        created = START - timedelta(days=5) + timedelta(minutes=gen.rng.randrange(span + 10 * 24 * 60))
        gen.ticket(cid, user(people[cid]["reporter"]), user(people[cid]["staff"]), created)
    # Sunday 23:30 and Monday 00:30 China time: the same UTC day, two different ISO weeks here.
    for moment in (datetime(2026, 3, 8, 23, 30, tzinfo=CHINA), datetime(2026, 3, 9, 0, 30, tzinfo=CHINA)):
        gen.ticket(a, user(people[a]["reporter"]), user(people[a]["staff"]), moment.astimezone(timezone.utc),
                   category="complaint", subject="pets", story="submitted")
    # B: two lift complaints in one week, one a minute before the period starts (not counted).
    for moment in (datetime(2026, 3, 17, 9, tzinfo=CHINA), datetime(2026, 3, 19, 9, tzinfo=CHINA),
                   datetime(2026, 3, 1, 23, 59, tzinfo=CHINA), datetime(2026, 3, 2, 0, 0, tzinfo=CHINA)):
        gen.ticket(b, user(people[b]["reporter"]), user(people[b]["staff"]), moment.astimezone(timezone.utc),
                   category="complaint", subject="pets", story="submitted")
    # C (not the regulator's): a hot spot the regulator must not see.
    for day in (10, 11):
        gen.ticket(c, user(people[c]["reporter"]), user(people[c]["staff"]),
                   datetime(2026, 3, day, 12, tzinfo=CHINA).astimezone(timezone.utc), category="complaint",
                   subject="greenery", story="submitted")
    return {"cids": cids, "names": names, "people": people, "regulator": regulator, "committee": committee,
            "records": gen.records}


def stats(client, user, cid, **query):
    resp = client.get(f"/api/v1/communities/{cid}/ticket-stats", headers=user["headers"],
                      query_string={"from": FROM, "to": TO, **query})
    assert resp.status_code == 200, resp.json
    return resp.json


def check(got, want):
    assert got["total"] == want["total"]
    assert got["by_status"] == want["by_status"]
    assert got["by_category"] == want["by_category"]
    assert {s: n for s, n in got["by_subject"].items() if n} == want["by_subject_nonzero"]
    for key in ("first_response", "resolution", "satisfaction", "reopen", "hot_spots"):
        assert got[key] == want[key], key


def test_figures_match_an_independent_computation(data, client):
    a, b, c = data["cids"]
    staff_a = data["people"][a]["staff"]
    got = stats(client, staff_a, a)
    want = expected(data["records"], a, data["names"], {a})
    check(got, want)
    # the generated set exercises every figure (no vacuous pass)
    assert got["total"] > 30 and got["first_response"]["responded"] > 10 and got["satisfaction"]["rated"] > 3
    assert got["reopen"]["reopened"] > 0 and got["first_response"]["waiting"] > 0
    assert (got["from"], got["to"]) == ("2026-03-01T16:00:00Z", "2026-03-29T16:00:00Z")
    # staff and committee see their own community's hot spots only; the Sunday/Monday pets pair is none
    assert all(h["community_id"] == a for h in got["hot_spots"])
    assert not any(h["subject"] == "pets" for h in got["hot_spots"])
    assert stats(client, data["committee"], a)["hot_spots"] == got["hot_spots"]
    # B's figures, asked with explicit UTC times rather than dates
    got_b = stats(client, data["people"][b]["staff"], b,
                  **{"from": "2026-03-01T16:00:00Z", "to": "2026-03-29T16:00:00Z"})
    check(got_b, expected(data["records"], b, data["names"], {b}))
    assert {"community_id": b, "community_name": "小区B", "subject": "pets", "week": "2026-W12",
            "complaints": 2} in got_b["hot_spots"]
    # the one at 00:00 on 2 March is in, the one a minute before is out: one pets complaint in W10
    assert not any(h["subject"] == "pets" and h["week"] == "2026-W10" for h in got_b["hot_spots"])


def test_regulator_sees_hot_spots_across_the_communities_they_regulate(data, client):
    a, b, c = data["cids"]
    got = stats(client, data["regulator"], a)
    want = expected(data["records"], a, data["names"], {a, b})
    check(got, want)
    assert {h["community_id"] for h in got["hot_spots"]} == {a, b}
    assert stats(client, data["regulator"], b)["hot_spots"] == got["hot_spots"]
    assert client.get(f"/api/v1/communities/{c}/ticket-stats", headers=data["regulator"]["headers"]).status_code == 403


def test_escalated_count(data, client):
    a = data["cids"][0]
    escalated = tickets.escalate_overdue(now=END + timedelta(days=30))
    open_ids = {r["id"] for r in data["records"]
                if r["status"] in ("submitted", "accepted", "in_progress", "reopened")}
    assert set(escalated) == open_ids
    want = sum(r["id"] in open_ids and START <= r["created"] < END and r["cid"] == a for r in data["records"])
    assert stats(client, data["people"][a]["staff"], a)["escalated"] == want > 0


def test_csv_export_for_excel(data, client):
    a = data["cids"][0]
    staff = data["people"][a]["staff"]
    resp = client.get(f"/api/v1/communities/{a}/ticket-stats", headers=staff["headers"],
                      query_string={"from": FROM, "to": TO, "format": "csv"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv" and resp.mimetype_params["charset"] == "utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == ["metric", "key", "value", "说明"]
    table = {(r[0], r[1]): r[2] for r in rows[1:]}
    got = stats(client, staff, a)
    assert table[("community", str(a))] == "小区A"
    assert int(table[("total", "")]) == got["total"]
    assert {s: int(table[("by_status", s)]) for s in STATUSES} == got["by_status"]
    assert int(table[("first_response", "median_seconds")]) == got["first_response"]["median_seconds"]
    assert float(table[("resolution_complaints", "rate")]) == got["resolution"]["complaints"]["rate"]
    assert sum(1 for r in rows if r[0] == "hot_spot") == len(got["hot_spots"])
    assert any("电梯" in r[3] or "噪声" in r[3] for r in rows if r[0] == "hot_spot")


def test_who_may_read_and_bad_periods(data, client):
    a = data["cids"][0]
    url = f"/api/v1/communities/{a}/ticket-stats"
    assert client.get(url, headers=data["people"][a]["reporter"]["headers"]).status_code == 403
    staff = data["people"][a]["staff"]["headers"]
    for query, field in (({"from": "2026-03-10", "to": "2026-03-01"}, "from"), ({"from": "2026-02-30"}, "from"),
                         ({"to": "yesterday"}, "to"), ({"from": "2026-03-01T08:00:00"}, "from"),
                         ({"format": "xml"}, "format")):
        resp = client.get(url, headers=staff, query_string=query)
        assert resp.status_code == 422 and field in resp.json["error"]["details"]["fields"], (query, resp.json)
    # a period with nothing in it: zeros and nulls, not errors
    empty = stats(client, data["people"][a]["staff"], a, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert empty["total"] == 0 and empty["first_response"]["median_seconds"] is None
    assert empty["resolution"]["all"]["rate"] is None and empty["hot_spots"] == []


def test_nearest_rank_definition():
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 90) == 7
    assert nearest_rank([1, 2, 3, 4], 50) == 2  # the lower middle
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10  # ⌈9.9⌉ = 10th
    assert nearest_rank([5, 9], 100) == 9
