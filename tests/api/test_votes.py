"""Votes end to end over HTTP (handbook §5, §6, §7): owners' keys made here with cryptography's
Ed25519, ballots signed and canonicalised here independently of voting/, and the bundle downloaded
from the API checked by `python -m voting.verify` in a subprocess, with every receipt handed out."""
import base64
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from PIL import Image

from backend.extensions import db
from backend.models import OutboxMessage
from backend.services import votes as vote_service
from voting.merkle import verify_consistency, verify_inclusion

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- the owner's phone, written from §6


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def public(key):
    return b64u(key.public_key().public_bytes_raw())


def stamp(moment=None):
    return (moment or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(key, vote_id, right_id, choice, nonce=None):
    """What the mini-program sends: B signed by the device key."""
    ballot = {"type": "ballot", "vote_id": vote_id, "right_id": right_id, "choice": choice,
              "nonce": nonce or b64u(os.urandom(16)), "signed_at": stamp()}
    return {"ballot": ballot, "public_key": public(key), "signature": b64u(key.sign(canonical(ballot)))}


def server_signed(obj, server_key):
    """True iff obj's "signature" is the server's over canonical(obj without it)."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    padded = obj["signature"] + "=" * (-len(obj["signature"]) % 4)
    raw_key = base64.urlsafe_b64decode(server_key + "=" * (-len(server_key) % 4))
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(base64.urlsafe_b64decode(padded), canonical(body))
    except Exception:
        return False
    return True


def receipt_holds(receipt, server_key):
    """The receipt's tree head is the server's and its audit path leads to the head's root."""
    head = receipt["tree_head"]
    return server_signed(head, server_key) and head["size"] >= receipt["leaf_index"] + 1 and verify_inclusion(
        bytes.fromhex(receipt["leaf_hash"]), receipt["leaf_index"], head["size"],
        [bytes.fromhex(p) for p in receipt["inclusion_proof"]], bytes.fromhex(head["root"]))


def jpeg(colour=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "JPEG")
    return buf.getvalue()


# ---------------------------------------------------------------- a community voting through the API


class Scene:
    """The standard community (§5 rights: 张伟 two flats = one right, 李娜+王强 co-own one, the
    developer's unsold flats one, 赵敏 one), its committee, verified owners and their device keys."""

    def __init__(self, world, client):
        self.world, self.client = world, client
        self.cid, self.phones = world.standard_community()
        self.committee = world.member(self.cid, "committee")
        self.owners, self.keys = {}, {}

    def owner(self, name, building, unit, room):
        user = self.world.owner(self.cid, building, unit, room, name, self.phones[name])
        self.owners[name] = user
        return user

    def register_key(self, name, key=None):
        key = key or Ed25519PrivateKey.generate()
        resp = self.client.post("/api/v1/me/keys", headers=self.owners[name]["headers"],
                                json={"public_key": public(key)})
        assert resp.status_code == 201, resp.json
        self.keys[name] = key
        return resp.json

    def draft(self, **fields):
        now = datetime.now(timezone.utc)
        body = {"title": "更换 1 号楼电梯", "description": "使用维修资金更换 1 号楼 1 单元电梯",
                "kind": "resolution", "matter": "ordinary", "opens_at": stamp(now - timedelta(minutes=1)),
                "closes_at": stamp(now + timedelta(hours=1))}
        body.update(fields)
        resp = self.client.post(f"/api/v1/communities/{self.cid}/votes", headers=self.committee["headers"], json=body)
        assert resp.status_code == 201, resp.json
        return resp.json

    def open(self, vid):
        resp = self.client.post(f"/api/v1/votes/{vid}/open", headers=self.committee["headers"])
        assert resp.status_code == 200, resp.json
        return resp.json

    def rights(self, vid, name):
        resp = self.client.get(f"/api/v1/votes/{vid}/my-rights", headers=self.owners[name]["headers"])
        assert resp.status_code == 200, resp.json
        return resp.json

    def cast(self, vid, name, vote_id, choice, key=None, right_id=None, **kw):
        right_id = right_id or self.rights(vid, name)[0]["right_id"]
        env = envelope(key or self.keys[name], vote_id, right_id, choice, **kw)
        return self.client.post(f"/api/v1/votes/{vid}/ballots", headers=self.owners[name]["headers"], json=env)

    def size(self, vid):
        return self.client.get(f"/api/v1/votes/{vid}/tree-head", headers=self.committee["headers"]).json["size"]

    def upload_photo(self, user, colour=(200, 30, 30)):
        resp = self.client.post("/api/v1/media", headers=user["headers"], content_type="multipart/form-data",
                                data={"file": (io.BytesIO(jpeg(colour)), "sheet.jpg")})
        assert resp.status_code == 201, resp.json
        return resp.json["id"]


@pytest.fixture
def scene(world, client):
    return Scene(world, client)


@pytest.fixture
def clock(monkeypatch):
    """Move the votes service's clock (tests never wait for a vote to close)."""

    def set_to(moment):
        monkeypatch.setattr(vote_service, "utcnow", lambda: moment)

    return set_to


def verify_bundle(tmp_path, bundle_bytes, receipts):
    """Run the offline verifier exactly as an owner would; returns (exit code, output)."""
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_bytes)
    args = [sys.executable, "-m", "voting.verify", str(path)]
    for i, receipt in enumerate(receipts):
        rpath = tmp_path / f"receipt-{i}.json"
        rpath.write_text(json.dumps(receipt, ensure_ascii=False))
        args += ["--receipt", str(rpath)]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


# ---------------------------------------------------------------- the whole vote


def test_whole_vote_open_cast_revote_paper_close_tally_bundle_verify(scene, client, world, clock, tmp_path):
    zhang = scene.owner("张伟", "1", "1", "101")
    scene.owner("李娜", "1", "1", "102")
    scene.owner("赵敏", "2", "1", "103")
    scene.register_key("张伟")  # before opening: in the roll's keys
    attachment = scene.upload_photo(scene.committee, (10, 120, 10))
    draft = scene.draft(fund={"amount_fen": 38_000_000, "purpose": "更换电梯", "attachment_ids": [attachment]})
    assert draft["state"] == "draft" and draft["definition"] is None and draft["vote_id"] is None
    assert draft["fund"] == {"amount_fen": 38_000_000, "purpose": "更换电梯", "attachment_ids": [attachment]}
    edited = client.patch(f"/api/v1/votes/{draft['id']}", headers=scene.committee["headers"],
                          json={"title": "更换 1 号楼 1 单元电梯"})
    assert edited.status_code == 200 and edited.json["title"] == "更换 1 号楼 1 单元电梯"
    assert edited.json["fund"]["amount_fen"] == 38_000_000  # untouched by a partial edit
    vid = draft["id"]
    # owners do not see drafts
    assert client.get(f"/api/v1/votes/{vid}", headers=zhang["headers"]).status_code == 404

    opened = scene.open(vid)
    definition, vote_id = opened["definition"], opened["vote_id"]
    assert opened["state"] == "open" and definition["type"] == "definition"
    assert definition["protocol"] == "linli-vote/1" and definition["vote_id"] == vote_id
    assert definition["roll"]["size"] == 4 and definition["roll"]["heads"] == 4
    assert definition["roll"]["area"] == 8950 + 9530 + 12000 + 7605 + 7605 + 14316
    assert opened["tree_head"]["size"] == 1 and server_signed(opened["tree_head"], definition["server_key"])
    assert client.patch(f"/api/v1/votes/{vid}", headers=scene.committee["headers"],
                        json={"title": "改"}).json["error"]["code"] == "vote_not_draft"

    rights = scene.rights(vid, "张伟")
    assert len(rights) == 1 and rights[0]["label"] == "1-1-101,1-2-201" and rights[0]["area"] == 8950 + 12000
    assert rights[0]["keys"] == [public(scene.keys["张伟"])]
    # a key registered after opening is bound by a key_binding entry
    bound = scene.register_key("李娜")
    assert [e["vote_id"] for e in bound["entries"]] == [vid]
    assert scene.rights(vid, "李娜")[0]["keys"] == [public(scene.keys["李娜"])]
    scene.register_key("赵敏")

    receipts = []
    for name, option in (("张伟", "reject"), ("李娜", "approve"), ("赵敏", "approve"), ("张伟", "approve")):
        resp = scene.cast(vid, name, vote_id, {"option": option})
        assert resp.status_code == 201, resp.json
        assert receipt_holds(resp.json, definition["server_key"])
        receipts.append(resp.json)
    # 王强 co-owns 李娜's right: he may re-vote for it with his own key; the latest counts
    scene.owner("王强", "1", "1", "102")
    scene.register_key("王强")
    resp = scene.cast(vid, "王强", vote_id, {"option": "abstain"})
    assert resp.status_code == 201
    receipts.append(resp.json)

    # the developer's right has no phone to verify: the committee enters its paper ballot with the photo
    photo = scene.upload_photo(scene.committee)
    all_rights = {r["right_id"] for r in scene.rights(vid, "张伟") + scene.rights(vid, "李娜") + scene.rights(vid, "赵敏")}
    paper_right = _developer_right(vid)
    assert paper_right not in all_rights
    resp = client.post(f"/api/v1/votes/{vid}/paper-ballots", headers=scene.committee["headers"],
                       json={"right_id": paper_right, "choice": {"option": "reject"}, "evidence_media_id": photo})
    assert resp.status_code == 201, resp.json
    assert receipt_holds(resp.json, definition["server_key"])
    receipts.append(resp.json)

    # closing before closes_at is refused
    resp = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"])
    assert resp.status_code == 409 and resp.json["error"]["code"] == "vote_not_due"
    assert client.get(f"/api/v1/votes/{vid}/bundle", headers=zhang["headers"]).json["error"]["code"] == "vote_not_closed"

    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    resp = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"])
    assert resp.status_code == 200, resp.json
    tally = resp.json["tally"]
    assert server_signed(tally, definition["server_key"])
    # 张伟 approve (20950), 李娜/王强 abstain (9530), 赵敏 approve (14316), developer reject on paper (15210)
    assert tally["counts"] == {"approve": {"area": 20950 + 14316, "heads": 2}, "reject": {"area": 15210, "heads": 1},
                               "abstain": {"area": 9530, "heads": 1}}
    assert tally["turnout"] == {"area": 60006, "heads": 4} and tally["quorum"] is True
    # approve has more than half the area (2·35266 > 60006) but not more than half the heads (2·2 = 4)
    assert tally["paper"] == 1 and tally["passed"] is False
    notice = resp.json["notice"]["text"]
    assert "350.00 m²" not in notice and "352.66 m²" in notice and "600.06 m²" in notice
    assert tally["root"] in notice and "表决结果公告" in notice

    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=zhang["headers"])
    assert bundle.status_code == 200 and bundle.mimetype == "application/json"
    code, output = verify_bundle(tmp_path, bundle.data, receipts)
    assert code == 0, output
    assert "ALL CHECKS PASSED" in output
    entries = bundle.json["entries"]
    assert [e["type"] for e in entries] == ["definition", "key_binding", "key_binding", "ballot", "ballot", "ballot",
                                            "ballot", "key_binding", "ballot", "paper_ballot", "close"]
    assert bundle.json["tree_head"]["size"] == len(entries) == tally["size"]


def _developer_right(vid):
    from backend.models import VoteRight, VoteRightOwner, Owner

    developer = db.session.execute(db.select(Owner.id).filter_by(kind="developer")).scalar_one()
    return db.session.execute(db.select(VoteRightOwner.right_id).filter_by(vote_id=vid, owner_id=developer)).scalar_one()
