"""flask commands: create-admin, demo, import-registry, send-notifications."""
import subprocess
import sys
from pathlib import Path

from backend.extensions import db
from backend.models import Binding, Community, Part, User


ROOT = Path(__file__).resolve().parents[2]


def test_create_admin(app, client):
    result = app.test_cli_runner().invoke(args=["create-admin", "oAdmin1"])
    assert result.exit_code == 0, result.output
    assert db.session.execute(db.select(User).filter_by(openid="oAdmin1")).scalar_one().is_platform_admin


def test_demo_loads_once_and_its_owner_can_log_in(app, client, world):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "code-dev-owner" in first.output
    assert runner.invoke(args=["demo"]).exit_code == 0  # idempotent
    assert db.session.execute(db.select(db.func.count()).select_from(Community)).scalar_one() == 1
    parts = db.session.execute(db.select(db.func.count()).select_from(Part)).scalar_one()
    assert 180 <= parts <= 260
    owner = world.login("dev-owner")
    me = client.get("/api/v1/me", headers=owner["headers"]).json
    rights = me["communities"][0]["rights"]
    assert len(rights) == 1 and rights[0]["label"] == "3-1-101,3-1-102"  # an owner with two flats: one right
    assert db.session.execute(db.select(db.func.count()).select_from(Binding)).scalar_one() == 2 + 4  # + the neighbours
    open_votes = client.get("/api/v1/me/votes", headers=owner["headers"]).json
    assert open_votes["total"] == 1 and open_votes["items"][0]["state"] == "open"
    # the whole life of a vote, without waiting: a closed, tallied vote with its result notice …
    votes = client.get(f"/api/v1/communities/{me['communities'][0]['id']}/votes", headers=owner["headers"]).json
    closed = next(v for v in votes["items"] if v["state"] != "open")
    tally = client.get(f"/api/v1/votes/{closed['id']}/tally", headers=owner["headers"]).json
    assert tally["tally"]["paper"] == 1 and "未通过" in tally["notice"]["text"]
    # … whose bundle the command wrote and the offline verifier passes, re-vote and paper ballot included
    line = next(line for line in first.output.splitlines() if "-m voting.verify" in line)
    bundle = line.split("-m voting.verify", 1)[1].strip()
    done = subprocess.run([sys.executable, "-m", "voting.verify", bundle], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0 and "ALL CHECKS PASSED" in done.stdout, done.stdout[-2000:]
    assert "被替代的选票 / superseded ballots: 1" in done.stdout and "纸质选票 / paper ballots: 1" in done.stdout
    cid = me["communities"][0]["id"]
    tickets = client.get(f"/api/v1/communities/{cid}/tickets", headers=owner["headers"]).json
    assert sorted(t["status"] for t in tickets["items"]) == ["resolved", "submitted", "submitted"]


def test_import_registry_command(app, client, world, tmp_path):
    cid = world.community()
    committee = world.member(cid, "committee")
    path = tmp_path / "r.csv"
    path.write_text("building,unit,room,area_m2,owner_name,owner_phone\n1,1,101,88,陈静,13800000011\n1,1,102,-1,x,13800000012\n")
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["import-registry", str(cid), str(path), "--as-openid", committee["openid"]])
    assert bad.exit_code != 0 and "row 3 area_m2" in bad.output
    path.write_text("building,unit,room,area_m2,owner_name,owner_phone\n1,1,101,88,陈静,13800000011\n")
    good = runner.invoke(args=["import-registry", str(cid), str(path), "--as-openid", committee["openid"]])
    assert good.exit_code == 0 and "'added': 1" in good.output


from tests.support import STANDARD_ROWS  # noqa: E402

NEW_PII_KEY = "m8X1c0f7Jq2ZyVb5tN3hL9kR4sW6dA0eP7uG2iO5xYQ="


def test_rotate_pii_key_moves_every_datum_and_hash(app, client, world, monkeypatch):
    from backend.models import Owner

    cid, phones = world.standard_community()
    zhang = world.owner(cid, "1", "1", "101", "张伟", phones["张伟"])
    old_key = app.config["PII_KEY"]
    keys_before = sorted(o.identity_key for o in db.session.execute(db.select(Owner)).scalars())
    runner = app.test_cli_runner()
    monkeypatch.setenv("PII_KEY_OLD", "bm90IHRoZSBrZXkgdGhlIGRhdGEgaXMgdW5kZXIhIQ==")
    monkeypatch.setitem(app.config, "PII_KEY", NEW_PII_KEY)
    wrong = runner.invoke(args=["rotate-pii-key"])
    assert wrong.exit_code != 0 and "nothing changed" in wrong.output
    db.session.rollback()
    monkeypatch.setenv("PII_KEY_OLD", old_key)
    done = runner.invoke(args=["rotate-pii-key"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    # under the new key: the masked phone reads, the registry still matches by phone and name …
    assert client.get("/api/v1/me", headers=zhang["headers"]).json["user"]["phone"] == "138****0001"
    li = world.login()
    world.verify_phone(li, phones["李娜"])
    resp = client.post(f"/api/v1/communities/{cid}/bindings", headers=li["headers"],
                       json={"building": "1", "unit": "1", "room": "102", "name": "李娜"})
    assert resp.json["status"] == "verified"
    # … and re-importing the same sheet finds the same owners (identity keys moved with the key)
    keys_after = sorted(o.identity_key for o in db.session.execute(db.select(Owner)).scalars())
    assert keys_after != keys_before and len(keys_after) == len(keys_before)
    committee = world.member(cid, "committee")
    report = world.import_registry(cid, STANDARD_ROWS, user=committee).json
    assert (report["added"], report["changed"], report["removed"]) == (0, 0, 0)
    parts = client.get(f"/api/v1/communities/{cid}/parts?per_page=100", headers=committee["headers"]).json["items"]
    assert {o["phone"] for p in parts for o in p["owners"]} >= {"138****0001", "138****0004"}
