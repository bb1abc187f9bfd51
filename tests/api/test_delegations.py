"""Proxies over the API (docs/votes.md "Proxies", docs/protocol.md §5.7, §7): an owner names a proxy with
a delegation signed on their phone; the proxy sees the right, casts for it through the one cast rule
and the owner sees that it was used (never for what); revocations, replacements and revoked keys end
it; the owner can always vote over it; every refusal has its code; the bundle verifies. Delegations
are signed here with cryptography's Ed25519 over canonical JSON written from the document, not with
voting/."""
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.services.votes import lifecycle
from tests.api.test_votes import Scene, b64u, canonical, clock, envelope, public, stamp, verify_bundle  # noqa: F401
from voting import PROTOCOL_1
from voting.entries import make_definition


def delegation(key, vote_id, right_id, delegate_key, kind="delegation", nonce=None):
    """What the owner's phone sends: D signed with the owner's key (docs/protocol.md §5.7)."""
    signed = {"type": kind, "vote_id": vote_id, "right_id": right_id, "delegate_key": delegate_key,
              "nonce": nonce or b64u(os.urandom(16)), "signed_at": stamp()}
    return {kind: signed, "public_key": public(key), "signature": b64u(key.sign(canonical(signed)))}


class Proxies(Scene):
    def proxy(self, phone, member=True):
        """A user with a verified phone and a device key of their own (a resident of the community)."""
        user = self.world.member(self.cid, "resident") if member else self.world.login()
        self.world.verify_phone(user, phone)
        user["key"] = Ed25519PrivateKey.generate()
        resp = self.client.post("/api/v1/me/proxy-keys", headers=user["headers"],
                                json={"public_key": public(user["key"])})
        assert resp.status_code == 201, resp.json
        return user

    def delegate(self, vid, name, vote_id, delegate_key, kind="delegation", right_id=None, key=None, **kw):
        right_id = right_id or self.rights(vid, name)[0]["right_id"]
        path = "delegations" if kind == "delegation" else "delegation-revocations"
        body = delegation(key or self.keys[name], vote_id, right_id, delegate_key, kind, **kw)
        return self.client.post(f"/api/v1/votes/{vid}/{path}", headers=self.owners[name]["headers"], json=body)

    def proxy_cast(self, vid, proxy, vote_id, right_id, choice, key=None):
        env = envelope(key or proxy["key"], vote_id, right_id, choice)
        return self.client.post(f"/api/v1/votes/{vid}/ballots", headers=proxy["headers"], json=env)


@pytest.fixture
def scene(world, client):
    return Proxies(world, client)


def code(resp):
    return resp.status_code, resp.json["error"]["code"]


def test_a_proxy_votes_the_owner_sees_it_used_and_can_vote_over_it(scene, client, clock, tmp_path):
    zhang = scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    scene.owner("李娜", "1", "1", "102")
    scene.owner("王强", "1", "1", "102")
    for name in ("张伟", "赵敏", "李娜", "王强"):
        scene.register_key(name)
    daughter, neighbour = scene.proxy("13900000011"), scene.proxy("13900000012")
    draft = scene.draft()
    vid, vote_id = draft["id"], scene.open(draft["id"])["vote_id"]
    zhang_right = scene.rights(vid, "张伟")[0]["right_id"]
    receipts = []

    granted = scene.delegate(vid, "张伟", vote_id, public(daughter["key"]))
    assert granted.status_code == 201, granted.json
    assert granted.json["entry"]["type"] == "delegation" and granted.json["entry"]["envelope"]["delegation"]["right_id"] \
        == zhang_right
    receipts.append(granted.json)
    mine = client.get(f"/api/v1/votes/{vid}/delegations", headers=zhang["headers"]).json
    [right] = mine["rights"]
    assert right["delegate"]["phone"] == "139****0011" and right["delegate"]["used"] is False
    assert right["delegate"]["public_key"] == public(daughter["key"])
    [held] = client.get("/api/v1/me/proxies", headers=daughter["headers"]).json
    assert (held["id"], held["vote_id"], held["right_id"], held["label"]) == (vid, vote_id, zhang_right, "1-1-101,1-2-201")
    assert client.get("/api/v1/me/proxies", headers=neighbour["headers"]).json == []

    cast = scene.proxy_cast(vid, daughter, vote_id, zhang_right, {"option": "approve"})
    assert cast.status_code == 201, cast.json
    receipts.append(cast.json)
    used = client.get(f"/api/v1/votes/{vid}/delegations", headers=zhang["headers"])
    assert used.json["rights"][0]["delegate"]["used"] is True
    assert "approve" not in used.get_data(as_text=True)  # that it was used, never for what
    # The proxy holds no other right, and casts with the key the delegation names only.
    zhao_right = scene.rights(vid, "赵敏")[0]["right_id"]
    assert code(scene.proxy_cast(vid, daughter, vote_id, zhao_right, {"option": "approve"})) == (403, "not_your_right")
    other_key = Ed25519PrivateKey.generate()
    client.post("/api/v1/me/proxy-keys", headers=daughter["headers"], json={"public_key": public(other_key)})
    assert code(scene.proxy_cast(vid, daughter, vote_id, zhang_right, {"option": "approve"}, key=other_key)) \
        == (403, "delegate_key_mismatch")
    # The owner votes over the proxy: the owner's ballot, later, counts.
    receipts.append(scene.cast(vid, "张伟", vote_id, {"option": "reject"}).json)

    # 赵敏 names the neighbour, then takes it back: the neighbour can no longer cast.
    receipts.append(scene.delegate(vid, "赵敏", vote_id, public(neighbour["key"])).json)
    revoked = scene.delegate(vid, "赵敏", vote_id, public(neighbour["key"]), kind="delegation_revocation")
    assert revoked.status_code == 201, revoked.json
    receipts.append(revoked.json)
    assert code(scene.proxy_cast(vid, neighbour, vote_id, zhao_right, {"option": "approve"})) == (403, "not_your_right")
    assert code(scene.delegate(vid, "赵敏", vote_id, public(neighbour["key"]), kind="delegation_revocation")) \
        == (409, "no_active_delegation")

    # 李娜 names the daughter, then the neighbour instead: one proxy per right, the newer one.
    li_right = scene.rights(vid, "李娜")[0]["right_id"]
    receipts.append(scene.delegate(vid, "李娜", vote_id, public(daughter["key"])).json)
    receipts.append(scene.delegate(vid, "李娜", vote_id, public(neighbour["key"])).json)
    assert code(scene.proxy_cast(vid, daughter, vote_id, li_right, {"option": "abstain"})) == (403, "not_your_right")
    receipts.append(scene.proxy_cast(vid, neighbour, vote_id, li_right, {"option": "abstain"}).json)
    assert client.get(f"/api/v1/votes/{vid}/delegations", headers=scene.owners["王强"]["headers"]).json["rights"][0][
        "delegate"]["phone"] == "139****0012"  # the co-owner sees the proxy of their shared right

    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    closed = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json
    assert closed["published"] is True  # no witnesses registered: published at once
    counts = closed["tally"]["counts"]
    assert counts["reject"]["heads"] == 1 and counts["abstain"]["heads"] == 1 and counts["approve"]["heads"] == 0
    receipts.append(closed["close_receipt"])
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=scene.committee["headers"])
    assert json.loads(bundle.data)["protocol"] == "linli-vote/1.1"
    status, out = verify_bundle(tmp_path, bundle.data, receipts)
    assert status == 0, out
    assert "委托 / delegations: 4; 撤销委托 / revocations: 1" in out
    assert "代理人投出的有效选票 / valid proxy ballots: 2 (计入 / counted 1)" in out
    assert "有效的委托 / a valid proxy authorisation" in out


def test_every_refusal_of_a_delegation(scene, client, world):
    scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    scene.owner("李娜", "1", "1", "102")
    scene.owner("王强", "1", "1", "102")
    for name in ("张伟", "赵敏", "王强"):
        scene.register_key(name)
    proxy = scene.proxy("13900000021")
    stranger = scene.proxy("13900000022", member=False)  # a verified phone, but no role in the community
    unverified = world.member(scene.cid, "resident")
    draft = scene.draft()
    vid, vote_id = draft["id"], scene.open(draft["id"])["vote_id"]
    key = public(proxy["key"])
    zhao_right = scene.rights(vid, "赵敏")[0]["right_id"]

    assert code(scene.delegate(vid, "张伟", vote_id, public(Ed25519PrivateKey.generate()))) == (422, "delegate_ineligible")
    assert code(scene.delegate(vid, "张伟", vote_id, public(stranger["key"]))) == (422, "delegate_ineligible")
    assert code(client.post("/api/v1/me/proxy-keys", headers=unverified["headers"],
                            json={"public_key": public(Ed25519PrivateKey.generate())})) == (403, "phone_not_verified")
    assert code(scene.delegate(vid, "李娜", vote_id, public(scene.keys["王强"]), key=scene.keys["王强"])) \
        == (422, "delegate_owns_right")  # 王强 co-owns the right: he votes himself
    assert code(scene.delegate(vid, "张伟", vote_id, key, right_id=zhao_right)) == (403, "not_your_right")
    assert code(scene.delegate(vid, "张伟", vote_id, key, key=Ed25519PrivateKey.generate())) == (403, "key_not_bound")
    body = delegation(scene.keys["张伟"], vote_id, scene.rights(vid, "张伟")[0]["right_id"], key)
    body["delegation"]["delegate_key"] = public(Ed25519PrivateKey.generate())  # changed after signing
    bad = client.post(f"/api/v1/votes/{vid}/delegations", headers=scene.owners["张伟"]["headers"], json=body)
    assert code(bad) == (422, "bad_signature")
    other_vote = client.post(f"/api/v1/votes/{vid}/delegations", headers=scene.owners["张伟"]["headers"],
                             json=delegation(scene.keys["张伟"], "v1-00000000", "r1", key))
    assert code(other_vote) == (422, "vote_id_mismatch")
    malformed = client.post(f"/api/v1/votes/{vid}/delegations", headers=scene.owners["张伟"]["headers"],
                            json=dict(body, delegation=dict(body["delegation"], nonce="short")))
    assert code(malformed) == (422, "malformed_delegation")
    # Nonces are one namespace with ballots': a delegation cannot reuse a ballot's.
    ballot = scene.cast(vid, "张伟", vote_id, {"option": "approve"})
    used = ballot.json["entry"]["envelope"]["ballot"]["nonce"]
    assert code(scene.delegate(vid, "张伟", vote_id, key, nonce=used)) == (409, "nonce_used")
    # Outsiders learn nothing: the same 404 as for a vote that does not exist.
    outsider_cid, phones = world.standard_community()
    outsider = world.owner(outsider_cid, "1", "1", "101", "张伟", phones["张伟"])
    revocation = delegation(scene.keys["张伟"], vote_id, body["delegation"]["right_id"], key, "delegation_revocation")
    for method, path, sent in (("get", "delegations", None), ("post", "delegations", body),
                               ("post", "delegation-revocations", revocation)):
        resp = getattr(client, method)(f"/api/v1/votes/{vid}/{path}", headers=outsider["headers"],
                                       **({"json": sent} if sent else {}))
        assert code(resp) == (404, "vote_not_found"), path
    size = client.get(f"/api/v1/votes/{vid}/tree-head", headers=scene.committee["headers"]).json["tree_head"]["size"]
    assert size == 2  # entry 0 and the one ballot: no refused request wrote anything


def test_revoked_keys_end_proxies(scene, client):
    scene.owner("赵敏", "2", "1", "103")
    scene.register_key("赵敏")
    proxy = scene.proxy("13900000031")
    draft = scene.draft()
    vid, vote_id = draft["id"], scene.open(draft["id"])["vote_id"]
    right = scene.rights(vid, "赵敏")[0]["right_id"]
    assert scene.delegate(vid, "赵敏", vote_id, public(proxy["key"])).status_code == 201
    # The proxy's own device key revoked: its ballots are refused.
    second = Ed25519PrivateKey.generate()
    client.post("/api/v1/me/proxy-keys", headers=proxy["headers"], json={"public_key": public(second)})
    assert client.delete(f"/api/v1/me/keys/{public(proxy['key'])}", headers=proxy["headers"]).status_code == 200
    assert code(scene.proxy_cast(vid, proxy, vote_id, right, {"option": "approve"})) == (403, "key_revoked")
    # The owner names the new key; then the owner's phone is lost: the proxy it signed ends with it.
    assert scene.delegate(vid, "赵敏", vote_id, public(second)).status_code == 201
    assert scene.proxy_cast(vid, proxy, vote_id, right, {"option": "approve"}, key=second).status_code == 201
    revoked = client.delete(f"/api/v1/me/keys/{public(scene.keys['赵敏'])}", headers=scene.owners["赵敏"]["headers"])
    assert revoked.status_code == 200 and len(revoked.json["entries"]) == 1
    assert code(scene.proxy_cast(vid, proxy, vote_id, right, {"option": "reject"}, key=second)) == (403, "not_your_right")
    assert client.get(f"/api/v1/votes/{vid}/delegations", headers=scene.owners["赵敏"]["headers"]).json["rights"][0][
        "delegate"] is None
    assert client.get("/api/v1/me/proxies", headers=proxy["headers"]).json == []


def test_a_vote_opened_under_linli_vote_1_takes_paper_proxies_only_and_still_verifies(scene, client, clock, tmp_path,
                                                                                      monkeypatch):
    """A vote opened before 1.1 (its definition says linli-vote/1) keeps its protocol to the end."""
    monkeypatch.setattr(lifecycle, "make_definition",
                        lambda **kw: make_definition(**{k: v for k, v in kw.items()
                                                        if k not in ("witnesses", "witness_quorum")},
                                                     protocol=PROTOCOL_1))
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    proxy = scene.proxy("13900000041")
    draft = scene.draft()
    opened = scene.open(draft["id"])
    vid, vote_id = draft["id"], opened["vote_id"]
    assert opened["definition"]["protocol"] == "linli-vote/1" and "witnesses" not in opened["definition"]
    assert code(scene.delegate(vid, "张伟", vote_id, public(proxy["key"]))) == (409, "delegation_unsupported")
    receipt = scene.cast(vid, "张伟", vote_id, {"option": "approve"}).json
    clock(datetime.now(timezone.utc) + timedelta(hours=2))
    closed = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=scene.committee["headers"])
    assert set(json.loads(bundle.data)) == {"protocol", "roll", "entries", "tree_head", "tally"}
    status, out = verify_bundle(tmp_path, bundle.data, [receipt, closed["close_receipt"]])
    assert status == 0 and out.count("通过 PASS") == 11, out
