"""Votes end to end over HTTP (docs/votes.md, docs/protocol.md): owners' keys made here with cryptography's
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
from backend.models import AuthSession, OutboxMessage
from backend.services import votes as vote_service
from backend.services.votes import common as vote_common
from voting.merkle import verify_consistency, verify_inclusion

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------- the owner's phone, written from docs/protocol.md §5


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
    """The standard community (docs/protocol.md §3 rights: 张伟 two flats = one right, 李娜+王强 co-own one, the
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
        return self.client.get(f"/api/v1/votes/{vid}/tree-head", headers=self.committee["headers"]).json["tree_head"]["size"]

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
        monkeypatch.setattr(vote_common, "utcnow", lambda: moment)

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
    assert definition["protocol"] == "linli-vote/1.1" and definition["vote_id"] == vote_id
    assert definition["witnesses"] == [] and definition["witness_quorum"] == 0  # none registered: none needed
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
    # entries name the vote both ways: `id` as in URLs, `vote_id` as in the protocol
    assert [(e["id"], e["vote_id"]) for e in bound["entries"]] == [(vid, opened["vote_id"])]
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

    # the committee keeps the close entry's receipt: it pins the final log, close entry included
    close_receipt = resp.json["close_receipt"]
    assert close_receipt["leaf_index"] == tally["size"] - 1 and close_receipt["tree_head"]["root"] == tally["root"]
    receipts.append(close_receipt)

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
    from backend.models import Owner, VoteRightOwner

    developer = db.session.execute(db.select(Owner.id).filter_by(kind="developer")).scalar_one()
    return db.session.execute(db.select(VoteRightOwner.right_id).filter_by(vote_id=vid, owner_id=developer)).scalar_one()


# ---------------------------------------------------------------- every refusal leaves the log as it was


def test_each_forbidden_cast_gets_its_code_and_leaves_the_log_unchanged(scene, client, world, clock):
    zhang = scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    scene.register_key("张伟")
    scene.register_key("赵敏")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    other = scene.open(scene.draft(title="另一项表决")["id"])
    zhang_right = scene.rights(vid, "张伟")[0]["right_id"]
    phone_key, lost = scene.keys["张伟"], Ed25519PrivateKey.generate()
    scene.register_key("张伟", lost)
    assert client.delete(f"/api/v1/me/keys/{public(lost)}", headers=zhang["headers"]).status_code == 200
    scene.keys["张伟"] = phone_key
    stranger = world.login()
    committee_only = scene.committee
    size = scene.size(vid)

    def refused(user, env, status, code, vote=vid):
        resp = client.post(f"/api/v1/votes/{vote}/ballots", headers=user["headers"], json=env)
        assert (resp.status_code, resp.json["error"]["code"]) == (status, code), resp.json
        assert scene.size(vid) == size, f"{code} changed the log"
        return resp.json["error"]

    key = scene.keys["赵敏"]
    zkey = Ed25519PrivateKey.generate()  # never registered
    good = lambda k=None, **kw: envelope(k or scene.keys["张伟"], vote_id, zhang_right, {"option": "approve"}, **kw)  # noqa: E731

    # no role in the community: the same answer as for a vote that does not exist (docs/votes.md "Who may ask")
    refused(stranger, good(), 404, "vote_not_found")
    refused(committee_only, good(), 403, "not_owner")
    refused(scene.owners["赵敏"], envelope(key, vote_id, zhang_right, {"option": "approve"}), 403, "not_your_right")
    refused(zhang, good(zkey), 403, "key_not_bound")
    refused(zhang, good(key), 403, "key_not_bound")  # 赵敏's key is bound to her right, not his
    refused(zhang, good(lost), 403, "key_revoked")
    err = refused(zhang, envelope(scene.keys["张伟"], other["vote_id"], zhang_right, {"option": "approve"}),
                  422, "vote_id_mismatch")
    assert "ballot.vote_id" in err["details"]["fields"]
    refused(zhang, envelope(scene.keys["张伟"], vote_id, zhang_right, {"option": "maybe"}), 422, "invalid_choice")
    refused(zhang, envelope(scene.keys["张伟"], vote_id, "r0000000000000000", {"option": "approve"}), 422,
            "right_not_in_roll")
    tampered = good()
    tampered["ballot"]["choice"] = {"option": "reject"}  # signed approve, sent reject
    refused(zhang, tampered, 422, "bad_signature")
    wrong_key = good()
    wrong_key["public_key"] = public(zkey)
    refused(zhang, wrong_key, 422, "bad_signature")
    # malformed envelopes, each naming the field
    for mutate, field in (
        (lambda e: e["ballot"].pop("nonce"), "ballot"),
        (lambda e: e["ballot"].update(extra=1), "ballot"),
        (lambda e: e["ballot"].update(nonce="short"), "ballot.nonce"),
        (lambda e: e["ballot"].update(signed_at="2026-01-01 08:00"), "ballot.signed_at"),
        (lambda e: e["ballot"].update(type="vote"), "ballot.type"),
        (lambda e: e["ballot"].update(right_id="有空格 的 id"), "ballot.right_id"),
        (lambda e: e.update(public_key="not-a-key"), "public_key"),
        (lambda e: e.update(signature="AAAA"), "signature"),
    ):
        env = good()
        mutate(env)
        err = refused(zhang, env, 422, "malformed_envelope")
        assert field in err["details"]["fields"], (field, err)
    for body in ({"ballot": good()["ballot"], "public_key": public(scene.keys["张伟"])}, {"ballot": "x"}, []):
        resp = client.post(f"/api/v1/votes/{vid}/ballots", headers=zhang["headers"], json=body)
        assert resp.status_code == 422 and resp.json["error"]["code"] == "validation_error"
    assert client.post("/api/v1/votes/999999/ballots", headers=zhang["headers"], json=good()).status_code == 404
    assert client.post(f"/api/v1/votes/{vid}/ballots", json=good()).status_code == 401
    # a session that has expired or was logged out casts nothing, though the ballot is otherwise good
    # (the cheap path checks the session in its locked read; the full bearer check gives the code)
    session = db.session.execute(db.select(AuthSession).filter_by(user_id=zhang["id"])).scalars().all()[-1]
    expires_at, session.expires_at = session.expires_at, datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    refused(zhang, good(), 401, "token_expired")
    session.expires_at = expires_at
    db.session.commit()
    second = world.login(zhang["openid"])
    assert client.post("/api/v1/auth/logout", headers=second["headers"]).status_code == 204
    refused(second, good(), 401, "token_revoked")

    # a replayed ballot (same nonce) is refused, whatever else changes
    first = good()
    assert client.post(f"/api/v1/votes/{vid}/ballots", headers=zhang["headers"], json=first).status_code == 201
    size = scene.size(vid)
    refused(zhang, first, 409, "nonce_used")
    refused(zhang, envelope(scene.keys["张伟"], vote_id, zhang_right, {"option": "reject"},
                            nonce=first["ballot"]["nonce"]), 409, "nonce_used")

    # before opening: a draft, and an open vote whose opens_at is still ahead
    draft = scene.draft(title="草稿")["id"]
    refused(zhang, good(), 409, "vote_not_open", vote=draft)
    now = datetime.now(timezone.utc)
    later = scene.open(scene.draft(title="明天开始", opens_at=stamp(now + timedelta(hours=1)),
                                   closes_at=stamp(now + timedelta(hours=3)))["id"])
    resp = client.post(f"/api/v1/votes/{later['id']}/ballots", headers=zhang["headers"],
                       json=envelope(scene.keys["张伟"], later["vote_id"], zhang_right, {"option": "approve"}))
    assert resp.status_code == 409 and resp.json["error"]["code"] == "vote_not_started"
    assert client.get(f"/api/v1/votes/{later['id']}/tree-head", headers=zhang["headers"]).json["tree_head"]["size"] == 1

    # after closes_at, before and after the committee closes it
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    refused(zhang, good(), 409, "vote_closed")
    assert client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).status_code == 200
    size = scene.size(vid)
    refused(zhang, good(), 409, "vote_closed")


def test_paper_ballots(scene, client, world, clock, tmp_path):
    zhang = scene.owner("张伟", "1", "1", "101")
    zhao = scene.owner("赵敏", "2", "1", "103")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    zhang_right = scene.rights(vid, "张伟")[0]["right_id"]
    zhao_right = scene.rights(vid, "赵敏")[0]["right_id"]
    url = f"/api/v1/votes/{vid}/paper-ballots"
    receipts = [scene.cast(vid, "张伟", vote_id, {"option": "approve"}).json]
    size = scene.size(vid)

    def refused(user, body, status, code):
        resp = client.post(url, headers=user["headers"], json=body)
        assert (resp.status_code, resp.json["error"]["code"]) == (status, code), resp.json
        assert scene.size(vid) == size

    photo = scene.upload_photo(scene.committee)
    # docs/protocol.md §7: never over an owner's own signed ballot
    refused(scene.committee, {"right_id": zhang_right, "choice": {"option": "reject"}, "evidence_media_id": photo},
            409, "signed_ballot_exists")
    # owners, staff and other communities' committees may not enter paper ballots (to another
    # community the vote does not exist)
    staff = world.member(scene.cid, "property_staff")
    other_committee = world.member(world.community(), "committee")
    for user, status, code in ((zhao, 403, "forbidden"), (staff, 403, "forbidden"),
                               (other_committee, 404, "vote_not_found")):
        refused(user, {"right_id": zhao_right, "choice": {"option": "reject"},
                       "evidence_media_id": scene.upload_photo(user)}, status, code)
    refused(scene.committee, {"right_id": zhao_right, "choice": {"option": "no"}, "evidence_media_id": photo},
            422, "invalid_choice")
    refused(scene.committee, {"right_id": "r0000000000000000", "choice": {"option": "reject"},
                              "evidence_media_id": photo}, 422, "right_not_in_roll")
    refused(scene.committee, {"right_id": zhao_right, "choice": {"option": "reject"}, "evidence_media_id": 999999},
            422, "validation_error")
    refused(scene.committee, {"right_id": zhao_right, "choice": {"option": "reject"},
                              "evidence_media_id": scene.upload_photo(zhang)}, 422, "validation_error")  # not his own
    resp = client.post(url, headers=scene.committee["headers"],
                       json={"right_id": zhao_right, "choice": {"option": "reject"}, "evidence_media_id": photo})
    assert resp.status_code == 201, resp.json
    receipts.append(resp.json)
    size = scene.size(vid)
    # one sheet, one photo
    refused(scene.committee, {"right_id": zhao_right, "choice": {"option": "approve"}, "evidence_media_id": photo},
            422, "evidence_used")
    # the evidence photo is open to the community's owners, not to other communities
    assert client.get(f"/api/v1/media/{photo}", headers=zhao["headers"]).status_code == 200
    outsider = world.login()
    assert client.get(f"/api/v1/media/{photo}", headers=outsider["headers"]).status_code == 403
    # the owner then votes herself: her signed ballot counts, not the paper one
    scene.register_key("赵敏")
    resp = scene.cast(vid, "赵敏", vote_id, {"option": "approve"})
    assert resp.status_code == 201
    receipts.append(resp.json)
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    tally = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json["tally"]
    assert tally["paper"] == 0 and tally["counts"]["approve"]["heads"] == 2 and tally["counts"]["reject"]["heads"] == 0
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=zhao["headers"])
    paper = [e for e in bundle.json["entries"] if e["type"] == "paper_ballot"]
    from backend.services import media

    assert len(paper) == 1 and paper[0]["evidence"] == media.media_sha256(photo)
    from backend.models import User

    member = db.session.get(User, scene.committee["id"])
    assert paper[0]["entered_by"] == vote_service.staff_pseudonym(member)  # a pseudonym, not the openid
    assert scene.committee["openid"] not in bundle.data.decode()
    code, output = verify_bundle(tmp_path, bundle.data, receipts)
    assert code == 0, output


def test_a_committee_member_never_enters_the_paper_ballot_of_a_right_they_own(scene, client, world, clock,
                                                                              tmp_path):
    """Someone else must enter it: a member of the committee who is a verified owner of the right (of
    any of its owners' flats) is refused, with nothing written; another member enters it."""
    zhao = scene.owner("赵敏", "2", "1", "103")
    li = scene.owner("李娜", "1", "1", "102")  # co-owns 1-1-102 with 王强: one right
    for user in (zhao, li):
        world.member(scene.cid, "committee", user=user)
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    size = scene.size(vid)
    url = f"/api/v1/votes/{vid}/paper-ballots"
    for member, name in ((zhao, "赵敏"), (li, "李娜")):
        right = scene.rights(vid, name)[0]["right_id"]
        photo = scene.upload_photo(member)
        resp = client.post(url, headers=member["headers"],
                           json={"right_id": right, "choice": {"option": "approve"}, "evidence_media_id": photo})
        assert (resp.status_code, resp.json["error"]["code"]) == (403, "paper_ballot_own_right"), resp.json
        assert resp.json["error"]["message"] and scene.size(vid) == size
        other = scene.committee if member is zhao else zhao
        resp = client.post(url, headers=other["headers"],
                           json={"right_id": right, "choice": {"option": "approve"},
                                 "evidence_media_id": scene.upload_photo(other)})
        assert resp.status_code == 201, resp.json
        size += 1
    # their own right is theirs to vote for with their key, as any owner
    scene.register_key("赵敏")
    assert scene.cast(vid, "赵敏", vote_id, {"option": "reject"}).status_code == 201


# ---------------------------------------------------------------- elections


def test_election_with_tie_at_the_last_seat(scene, client, clock, tmp_path):
    for name, room in (("张伟", ("1", "1", "101")), ("李娜", ("1", "1", "102")), ("赵敏", ("2", "1", "103"))):
        scene.owner(name, *room)
        scene.register_key(name)
    draft = scene.draft(title="第二届业主委员会选举", kind="election", seats=2,
                        candidates=[{"name": "陈静", "statement": "做过十年会计"}, {"name": "刘洋"},
                                    {"name": "周杰", "statement": "退休工程师"}])
    assert [c["id"] for c in draft["candidates"]] == ["c1", "c2", "c3"]
    assert draft["candidates"][1]["statement"] == ""
    opened = scene.open(draft["id"])
    vid, vote_id = draft["id"], opened["vote_id"]
    assert opened["definition"]["candidates"] == [{"id": "c1", "name": "陈静"}, {"id": "c2", "name": "刘洋"},
                                                  {"id": "c3", "name": "周杰"}]
    assert opened["definition"]["seats"] == 2 and opened["definition"]["options"] is None
    for bad in ({"approve": ["c1", "c2", "c3"]}, {"approve": ["c1", "c1"]}, {"approve": ["c9"]}, {"option": "approve"}):
        resp = scene.cast(vid, "张伟", vote_id, bad)
        assert resp.status_code == 422 and resp.json["error"]["code"] == "invalid_choice", bad
    receipts = []
    for name, approve in (("张伟", ["c1", "c2"]), ("李娜", ["c1", "c3"]), ("赵敏", ["c2", "c3"]), ("张伟", ["c1"])):
        resp = scene.cast(vid, name, vote_id, {"approve": approve})
        assert resp.status_code == 201
        receipts.append(resp.json)
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    result = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json
    tally = result["tally"]
    # turnout 3 of 4 heads; each of c1 (张伟, 李娜) and c3 (李娜, 赵敏) has 2 heads of 3 — c2 only 1
    assert tally["counts"]["c1"]["heads"] == 2 and tally["counts"]["c2"]["heads"] == 1
    assert tally["counts"]["c3"]["heads"] == 2
    assert tally["quorum"] is True and set(tally["elected"]) == {"c1", "c3"} and tally["tie"] == []
    assert "陈静" in result["notice"]["text"] and "当选" in result["notice"]["text"]
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=scene.owners["赵敏"]["headers"])
    code, output = verify_bundle(tmp_path, bundle.data, receipts)
    assert code == 0, output


# ---------------------------------------------------------------- drafts


def test_draft_validation_names_the_fields(scene, client, app):
    now = datetime.now(timezone.utc)
    url = f"/api/v1/communities/{scene.cid}/votes"
    base = {"title": "表决", "kind": "resolution", "opens_at": stamp(now), "closes_at": stamp(now + timedelta(hours=2))}

    def invalid(field, **changes):
        resp = client.post(url, headers=scene.committee["headers"], json={**base, **changes})
        assert resp.status_code == 422, resp.json
        assert field in resp.json["error"]["details"]["fields"], resp.json
        return resp

    invalid("closes_at", closes_at=stamp(now - timedelta(hours=1)))
    invalid("closes_at", opens_at=stamp(now - timedelta(hours=3)), closes_at=stamp(now - timedelta(hours=1)))
    invalid("closes_at", closes_at="2026-01-01T08:00:00")  # no time zone
    invalid("seats", kind="election", candidates=[{"name": "甲"}], seats=0)
    invalid("candidates", kind="election", candidates=[{"name": "甲"}], seats=2)
    invalid("candidates", kind="election", seats=1)
    invalid("matter", kind="election", matter="special", candidates=[{"name": "甲"}], seats=1)
    invalid("candidates", candidates=[{"name": "甲"}])
    invalid("seats", seats=1)
    invalid("scope.buildings", scope={"buildings": ["1", "9"]})
    invalid("scope", scope={"buildings": []})
    invalid("fund", fund={"amount_fen": 1.5, "purpose": "x"})
    invalid("fund", fund={"amount_fen": 0, "purpose": "x"})
    invalid("fund", kind="election", candidates=[{"name": "甲"}], seats=1, fund={"amount_fen": 100, "purpose": "x"})
    invalid("title", title="   ")
    invalid("unknown", unknown=1)
    app.config["VOTE_MIN_HOURS"] = 72
    try:
        invalid("closes_at")
    finally:
        app.config["VOTE_MIN_HOURS"] = 0
    assert not client.get(url, headers=scene.committee["headers"]).json["items"]
    # only the committee drafts; a PATCH validates the merged draft
    owner = scene.owner("张伟", "1", "1", "101")
    assert client.post(url, headers=owner["headers"], json=base).status_code == 403
    vote = client.post(url, headers=scene.committee["headers"], json=base).json
    resp = client.patch(f"/api/v1/votes/{vote['id']}", headers=scene.committee["headers"],
                        json={"opens_at": stamp(now + timedelta(hours=5))})
    assert resp.status_code == 422 and "closes_at" in resp.json["error"]["details"]["fields"]
    assert client.patch(f"/api/v1/votes/{vote['id']}", headers=owner["headers"], json={"title": "x"}).status_code == 403
    assert client.get(f"/api/v1/votes/{vote['id']}", headers=scene.committee["headers"]).json["title"] == "表决"


def test_scope_limits_the_roll_to_the_listed_buildings(scene, client):
    scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    opened = scene.open(scene.draft(scope={"buildings": ["2"]})["id"])
    assert opened["scope"] == {"buildings": ["2"]}
    roll = opened["definition"]["roll"]
    assert (roll["size"], roll["heads"], roll["area"]) == (2, 2, 7605 + 7605 + 14316)
    assert scene.rights(opened["id"], "张伟") == []
    assert [r["label"] for r in scene.rights(opened["id"], "赵敏")] == ["2-1-103"]


def test_empty_scope_cannot_open(scene, client, world):
    cid = world.community()
    committee = world.member(cid, "committee")
    now = datetime.now(timezone.utc)
    vote = client.post(f"/api/v1/communities/{cid}/votes", headers=committee["headers"],
                       json={"title": "无人表决", "kind": "resolution", "opens_at": stamp(now),
                             "closes_at": stamp(now + timedelta(hours=1))}).json
    resp = client.post(f"/api/v1/votes/{vote['id']}/open", headers=committee["headers"])
    assert resp.status_code == 409 and resp.json["error"]["code"] == "roll_empty"
    assert client.get(f"/api/v1/votes/{vote['id']}", headers=committee["headers"]).json["state"] == "draft"


# ---------------------------------------------------------------- device keys


def test_device_keys_follow_into_open_logs(scene, client, world, tmp_path, clock):
    zhang = scene.owner("张伟", "1", "1", "101")
    resident = world.login()
    key = Ed25519PrivateKey.generate()
    resp = client.post("/api/v1/me/keys", headers=resident["headers"], json={"public_key": public(key)})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "not_owner"
    for bad in ("short", public(key) + "=", b64u(b"x" * 31), "A" * 42 + "B", public(key).replace(public(key)[0], "+", 1)):
        resp = client.post("/api/v1/me/keys", headers=zhang["headers"], json={"public_key": bad})
        assert resp.status_code == 422 and resp.json["error"]["code"] == "invalid_public_key", bad
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    size = scene.size(vid)
    first = scene.register_key("张伟", key)
    assert len(first["entries"]) == 1 and first["entries"][0]["leaf_index"] == size
    again = client.post("/api/v1/me/keys", headers=zhang["headers"], json={"public_key": public(key)})
    assert again.status_code == 201 and again.json["entries"] == []  # a retry changes nothing
    zhao = scene.owner("赵敏", "2", "1", "103")
    resp = client.post("/api/v1/me/keys", headers=zhao["headers"], json={"public_key": public(key)})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "key_taken"
    receipts = [scene.cast(vid, "张伟", vote_id, {"option": "approve"}).json]
    # lost phone: revoke; the log records it and the key can no longer cast or be registered again
    revoked = client.delete(f"/api/v1/me/keys/{public(key)}", headers=zhang["headers"])
    assert revoked.status_code == 200 and revoked.json["key"]["revoked_at"] is not None
    assert [(e["id"], e["vote_id"]) for e in revoked.json["entries"]] == [(vid, vote_id)]
    assert scene.rights(vid, "张伟")[0]["keys"] == []
    resp = scene.cast(vid, "张伟", vote_id, {"option": "reject"})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "key_revoked"
    resp = client.post("/api/v1/me/keys", headers=zhang["headers"], json={"public_key": public(key)})
    assert resp.status_code == 403 and resp.json["error"]["code"] == "key_revoked"  # one code, one status
    assert client.delete(f"/api/v1/me/keys/{public(key)}", headers=zhang["headers"]).json["error"]["code"] == "key_revoked"
    assert client.delete(f"/api/v1/me/keys/{public(key)}", headers=zhao["headers"]).status_code == 404
    # a new phone
    scene.register_key("张伟")
    receipts.append(scene.cast(vid, "张伟", vote_id, {"option": "reject"}).json)
    listed = client.get("/api/v1/me/keys", headers=zhang["headers"]).json
    assert listed["total"] == 2 and sum(1 for k in listed["items"] if k["revoked_at"] is None) == 1
    for _ in range(4):
        scene.register_key("张伟")
    resp = client.post("/api/v1/me/keys", headers=zhang["headers"],
                       json={"public_key": public(Ed25519PrivateKey.generate())})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "too_many_keys"
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    tally = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json["tally"]
    assert tally["counts"]["reject"]["heads"] == 1 and tally["counts"]["approve"]["heads"] == 0
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=zhang["headers"])
    assert [e["type"] for e in bundle.json["entries"]][1:5] == ["key_binding", "ballot", "key_revocation", "key_binding"]
    code, output = verify_bundle(tmp_path, bundle.data, receipts)
    assert code == 0, output


def test_key_of_an_owner_verified_after_it_was_registered_is_bound_when_it_casts(scene, client, world, clock,
                                                                                 tmp_path):
    # 张伟 (same phone in both registries) registers his key as an owner elsewhere, verifies here later
    elsewhere, _ = world.standard_community()
    zhang = world.owner(elsewhere, "1", "1", "101", "张伟", scene.phones["张伟"])
    key = Ed25519PrivateKey.generate()
    assert client.post("/api/v1/me/keys", headers=zhang["headers"], json={"public_key": public(key)}).status_code == 201
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    resp = client.post(f"/api/v1/communities/{scene.cid}/bindings", headers=zhang["headers"],
                       json={"building": "1", "unit": "2", "room": "201", "name": "张伟"})
    assert resp.json["status"] == "verified"
    scene.owners["张伟"] = zhang
    right = scene.rights(vid, "张伟")[0]
    assert right["keys"] == []
    size = scene.size(vid)
    resp = scene.cast(vid, "张伟", vote_id, {"option": "approve"}, key=key)
    assert resp.status_code == 201 and resp.json["leaf_index"] == size + 1  # after its key_binding
    assert scene.rights(vid, "张伟")[0]["keys"] == [public(key)]
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"])
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=zhang["headers"])
    assert bundle.json["entries"][size]["type"] == "key_binding"
    code, output = verify_bundle(tmp_path, bundle.data, [resp.json])
    assert code == 0, output


# ---------------------------------------------------------------- proofs


def test_receipts_check_against_later_tree_heads(scene, client):
    scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    scene.register_key("张伟")
    scene.register_key("赵敏")
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    receipts = [scene.cast(vid, name, vote_id, {"option": "approve"}).json
                for name in ("张伟", "赵敏", "张伟", "赵敏", "张伟")]
    headers = scene.owners["赵敏"]["headers"]
    view = client.get(f"/api/v1/votes/{vid}/tree-head", headers=headers).json
    latest = view["tree_head"]
    assert server_signed(latest, server_key) and latest["size"] == 6
    assert (view["cosignatures"], view["witness_quorum"], view["cosigned"]) == ([], 0, True)  # no witnesses
    for receipt in receipts:
        old = receipt["tree_head"]
        proof = client.get(f"/api/v1/votes/{vid}/proofs/inclusion?leaf_index={receipt['leaf_index']}",
                           headers=headers).json
        assert proof["size"] == latest["size"] and proof["leaf_hash"] == receipt["leaf_hash"]
        assert verify_inclusion(bytes.fromhex(receipt["leaf_hash"]), receipt["leaf_index"], latest["size"],
                                [bytes.fromhex(p) for p in proof["inclusion_proof"]], bytes.fromhex(latest["root"]))
        sized = client.get(f"/api/v1/votes/{vid}/proofs/inclusion?leaf_index={receipt['leaf_index']}"
                           f"&size={old['size']}", headers=headers).json
        assert sized["inclusion_proof"] == receipt["inclusion_proof"] and sized["tree_head"] == old
        consistency = client.get(f"/api/v1/votes/{vid}/proofs/consistency?first={old['size']}", headers=headers).json
        assert consistency["first_tree_head"] == old and consistency["second_tree_head"] == latest
        assert verify_consistency(old["size"], latest["size"], bytes.fromhex(old["root"]),
                                  bytes.fromhex(latest["root"]),
                                  [bytes.fromhex(p) for p in consistency["consistency_proof"]])
    for query in ("inclusion?leaf_index=6", "inclusion?leaf_index=0&size=7", "inclusion?leaf_index=-1",
                  "inclusion", "consistency?first=0", "consistency?first=5&second=4", "consistency?first=2&second=9"):
        resp = client.get(f"/api/v1/votes/{vid}/proofs/{query}", headers=headers)
        assert resp.status_code == 422 and resp.json["error"]["details"]["fields"], query


# ---------------------------------------------------------------- who sees what


def test_other_communities_are_refused_everywhere(scene, client, world, clock):
    """A caller with no role in the vote's community learns nothing about it on any vote route: the
    same 404 `vote_not_found` as for a vote that does not exist, whatever the vote's state, before
    anything about that state is said (docs/votes.md "Who may ask")."""
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    other_cid, _ = world.standard_community()
    outsiders = [world.member(other_cid, "committee"), world.member(other_cid, "regulator"),
                 world.owner(other_cid, "2", "1", "103", "赵敏", scene.phones["赵敏"]), world.login()]
    photo = scene.upload_photo(outsiders[0])

    def routes(vote, right=None, vote_id="v-x", key=None):
        env = envelope(key or Ed25519PrivateKey.generate(), vote_id, right or "r0000000000000000", {"option": "approve"})
        paper = {"right_id": right or "r0000000000000000", "choice": {"option": "approve"}, "evidence_media_id": photo}
        return [("GET", f"/api/v1/votes/{vote}{path}", None) for path in (
            "", "/my-rights", "/tree-head", "/proofs/inclusion?leaf_index=0", "/proofs/consistency?first=1",
            "/tally", "/bundle")] + [
            ("PATCH", f"/api/v1/votes/{vote}", {"title": "x"}), ("POST", f"/api/v1/votes/{vote}/open", None),
            ("POST", f"/api/v1/votes/{vote}/close", None), ("POST", f"/api/v1/votes/{vote}/paper-ballots", paper),
            ("POST", f"/api/v1/votes/{vote}/ballots", env)]

    def answers(user, vote, **kw):
        return [(method, path, client.open(path, method=method, headers=user["headers"], json=body))
                for method, path, body in routes(vote, **kw)]

    def same_as_missing(user, vote, **kw):
        for (method, path, resp), (_, _, missing) in zip(answers(user, vote, **kw), answers(user, 999999, **kw)):
            assert (resp.status_code, resp.json["error"]["code"]) == (404, "vote_not_found"), (method, path, resp.json)
            assert resp.json == missing.json, (method, path)

    for user in outsiders:  # a draft (a ballot to it was a 409 `vote_not_open` once)
        same_as_missing(user, vid)
    opened = scene.open(vid)
    right = scene.rights(vid, "张伟")[0]["right_id"]
    for user in outsiders:  # open, with a ballot that would be accepted from its owner
        same_as_missing(user, vid, right=right, vote_id=opened["vote_id"], key=scene.keys["张伟"])
        assert client.get(f"/api/v1/communities/{scene.cid}/votes", headers=user["headers"]).status_code == 403
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    for user in outsiders:  # due: closing would be allowed to the committee
        same_as_missing(user, vid, right=right, vote_id=opened["vote_id"])
    assert client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).status_code == 200
    for user in outsiders:  # closed and tallied
        same_as_missing(user, vid, right=right, vote_id=opened["vote_id"])


def test_bundle_for_owners_committee_and_regulators_only(scene, client, world, clock):
    zhang = scene.owner("张伟", "1", "1", "101")
    vid = scene.draft()["id"]
    scene.open(vid)
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    assert client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).status_code == 200
    regulator = world.member(scene.cid, "regulator")
    staff = world.member(scene.cid, "property_staff")
    pending = world.login()
    client.post(f"/api/v1/communities/{scene.cid}/bindings", headers=pending["headers"],
                json={"building": "2", "unit": "1", "room": "103", "name": "赵敏"})  # no phone: pending
    # the committee that ran the vote audits it too; property staff are told who may
    for user, status in ((zhang, 200), (regulator, 200), (scene.committee, 200), (staff, 403), (pending, 404)):
        resp = client.get(f"/api/v1/votes/{vid}/bundle", headers=user["headers"])
        assert resp.status_code == status, resp.json
    refused = client.get(f"/api/v1/votes/{vid}/bundle", headers=staff["headers"]).json["error"]
    assert refused["code"] == "bundle_forbidden" and "业主、业委会和监管部门" in refused["message"]
    # everyone with a role sees the tally and its notice; a claim under review is no role
    assert client.get(f"/api/v1/votes/{vid}/tally", headers=pending["headers"]).status_code == 404
    for user in (zhang, regulator, staff, scene.committee):
        resp = client.get(f"/api/v1/votes/{vid}/tally", headers=user["headers"])
        assert resp.status_code == 200 and resp.json["tally"]["quorum"] is False


def test_owners_list_open_votes_with_their_rights(scene, client):
    zhang = scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    first = scene.open(scene.draft(title="一")["id"])
    scene.open(scene.draft(title="二", scope={"buildings": ["2"]})["id"])
    scene.draft(title="草稿")
    mine = client.get("/api/v1/me/votes", headers=zhang["headers"]).json
    assert [v["title"] for v in mine["items"]] == ["一"] and mine["total"] == 1
    assert mine["items"][0]["my_rights"][0]["label"] == "1-1-101,1-2-201"
    listed = client.get(f"/api/v1/communities/{scene.cid}/votes", headers=zhang["headers"]).json
    assert sorted(v["title"] for v in listed["items"]) == ["一", "二"]
    assert client.get(f"/api/v1/communities/{scene.cid}/votes?state=draft",
                      headers=scene.committee["headers"]).json["total"] == 1
    assert client.get(f"/api/v1/communities/{scene.cid}/votes?state=draft", headers=zhang["headers"]).json["total"] == 0
    assert client.get(f"/api/v1/votes/{first['id']}", headers=zhang["headers"]).json["my_rights"][0]["heads"] == 1


# ---------------------------------------------------------------- notifications


def _outbox(event):
    return db.session.execute(db.select(OutboxMessage).filter_by(event=event).order_by(OutboxMessage.id)).scalars().all()


def test_vote_notifications_opened_closing_result(scene, client, app, wechat):
    zhang = scene.owner("张伟", "1", "1", "101")
    zhao = scene.owner("赵敏", "2", "1", "103")
    li = scene.owner("李娜", "1", "1", "102")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    assert sorted(m.user_id for m in _outbox("vote_opened")) == sorted(u["id"] for u in (zhang, zhao, li))
    wechat.declined.add(zhao["openid"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert sorted(m.status for m in _outbox("vote_opened")) == ["declined", "sent", "sent"]
    assert len(wechat.messages) == 2 and all(m["page"] == f"pages/votes/detail?id={vid}" for m in wechat.messages)

    assert scene.cast(vid, "张伟", opened["vote_id"], {"option": "approve"}).status_code == 201
    closes_at = datetime.strptime(opened["closes_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    early = runner.invoke(args=["vote-reminders", "--now", stamp(closes_at - timedelta(hours=30))])
    assert early.exit_code == 0 and _outbox("vote_closing") == []
    due = runner.invoke(args=["vote-reminders", "--now", stamp(closes_at - timedelta(hours=23))])
    assert due.exit_code == 0, due.output
    # only those who have not voted yet, and only once
    assert sorted(m.user_id for m in _outbox("vote_closing")) == sorted(u["id"] for u in (zhao, li))
    runner.invoke(args=["vote-reminders", "--now", stamp(closes_at - timedelta(hours=22))])
    assert len(_outbox("vote_closing")) == 2
    assert runner.invoke(args=["send-notifications"]).exit_code == 0
    assert sorted(m.status for m in _outbox("vote_closing")) == ["declined", "sent"]

    assert "closed 0 votes" in runner.invoke(args=["close-due-votes", "--now", stamp(closes_at - timedelta(seconds=1))]).output
    result = runner.invoke(args=["close-due-votes", "--now", stamp(closes_at)])
    assert result.exit_code == 0 and f"closed 1 votes: {vid}" in result.output
    assert client.get(f"/api/v1/votes/{vid}", headers=zhang["headers"]).json["state"] == "tallied"
    results = _outbox("vote_result")
    assert len(results) == 3 and {m.data["result"]["value"] for m in results} == {"未通过"}
    wechat.fail("cgi-bin/message/subscribe/send", -1)
    sent = runner.invoke(args=["send-notifications"])
    assert sent.exit_code == 0
    statuses = sorted(m.status for m in _outbox("vote_result"))
    assert statuses == ["declined", "pending", "sent"]  # the failed one waits for its back-off
    retry = next(m for m in _outbox("vote_result") if m.status == "pending")
    assert retry.attempts == 1 and retry.next_attempt_at > retry.created_at
    tally = client.get(f"/api/v1/votes/{vid}/tally", headers=zhang["headers"]).json
    assert tally["notice"]["notice_id"] is not None
    notice = client.get(f"/api/v1/communities/{scene.cid}/notices/{tally['notice']['notice_id']}",
                        headers=zhang["headers"])
    assert notice.status_code == 200 and notice.json["body"] == tally["notice"]["text"]


def test_every_vote_route_takes_the_protocol_vote_id_too(scene, client, clock, tmp_path):
    """A client holding only what the protocol gave it (the vote_id in a ballot, receipt or tree
    head) reaches the vote by that id on every /votes/<vid>/… route, and each answer names the vote
    both ways."""
    zhang = scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id = opened["vote_id"]
    headers = zhang["headers"]
    by_id, by_protocol = (client.get(f"/api/v1/votes/{ref}", headers=headers).json for ref in (vid, vote_id))
    assert by_id == by_protocol and (by_id["id"], by_id["vote_id"]) == (vid, vote_id)
    right = client.get(f"/api/v1/votes/{vote_id}/my-rights", headers=headers).json[0]["right_id"]
    cast = client.post(f"/api/v1/votes/{vote_id}/ballots", headers=headers,
                       json=envelope(scene.keys["张伟"], vote_id, right, {"option": "approve"}))
    assert cast.status_code == 201 and cast.json["vote_id"] == vote_id
    for path in ("tree-head", "proofs/inclusion?leaf_index=1", "proofs/consistency?first=1"):
        assert (client.get(f"/api/v1/votes/{vote_id}/{path}", headers=headers).json
                == client.get(f"/api/v1/votes/{vid}/{path}", headers=headers).json)
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    closed = client.post(f"/api/v1/votes/{vote_id}/close", headers=scene.committee["headers"])
    assert closed.status_code == 200, closed.json
    tally = client.get(f"/api/v1/votes/{vote_id}/tally", headers=headers).json
    assert (tally["id"], tally["vote_id"]) == (vid, vote_id) and tally["tally"]["vote_id"] == vote_id
    bundle = client.get(f"/api/v1/votes/{vote_id}/bundle", headers=headers)
    assert bundle.data == client.get(f"/api/v1/votes/{vid}/bundle", headers=headers).data
    # every /votes/<vid>/… route of the app takes either id (the converter of both)
    rules = [r for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/v1/votes/<")]
    assert rules and all(r.rule.startswith("/api/v1/votes/<vote:vid>") for r in rules), [r.rule for r in rules]
    # an id of the protocol's shape that names no vote, a malformed one, a number out of range: 404
    for ref in ("v999-0123abcd", f"v{vid}-00000000", "v1-XYZ", "99999999999"):
        resp = client.get(f"/api/v1/votes/{ref}", headers=headers)
        assert resp.status_code == 404, ref


def test_a_replayed_ballot_is_one_log_line_without_a_traceback(scene, client, caplog):
    """A refusal (4xx) is logged as one line with the request id and code; only a 5xx has a stack."""
    import logging

    zhang = scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    right = scene.rights(vid, "张伟")[0]["right_id"]
    first = envelope(scene.keys["张伟"], vote_id, right, {"option": "approve"})
    assert client.post(f"/api/v1/votes/{vid}/ballots", headers=zhang["headers"], json=first).status_code == 201
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    replay = client.post(f"/api/v1/votes/{vid}/ballots", headers={**zhang["headers"], "X-Request-Id": "replay-1"},
                         json=first)
    assert replay.status_code == 409 and replay.json["error"]["code"] == "nonce_used"
    assert "Traceback" not in caplog.text and "IntegrityError" not in caplog.text
    assert not any(record.exc_info for record in caplog.records)
    lines = [r.getMessage() for r in caplog.records if "replay-1" in r.getMessage()]
    assert len(lines) == 1 and "409 nonce_used" in lines[0]
