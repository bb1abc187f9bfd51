"""Witnesses over the API (docs/votes.md "Witnesses", docs/protocol.md §15): the registry, the quorum
fixed at opening, real `python -m voting.witness` processes co-signing against the real app served
by gunicorn, the tally published only once the close head has its quorum, the bundle verified; and
every refusal of the co-signature route and of the signed reads, none of which tells an outsider
anything about a vote."""
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.extensions import db
from backend.services.votes import cosigning
from tests.api.test_vote_concurrency import serving
from tests.api.test_votes import ROOT, Scene, clock, public, stamp, verify_bundle  # noqa: F401 (clock: a fixture)
from voting.witnesses import make_cosignature, sign_request


@pytest.fixture
def scene(world, client):
    return Scene(world, client)


def witness_program(*args):
    done = subprocess.run([sys.executable, "-m", "voting.witness", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


class Witnesses:
    """Three witness installations (key file, state directory), registered in the scene's community:
    the street office and the residents' committee by the platform admin, a member by the committee."""

    KINDS = (("street_office", "幸福街道办事处"), ("residents_committee", "幸福社区居委会"), ("committee_member", "委员 刘洋"))

    def __init__(self, scene, world, client, tmp_path):
        self.client, self.items = client, []
        for i, (kind, name) in enumerate(self.KINDS):
            key_path, state = tmp_path / f"w{i}.pem", tmp_path / f"state{i}"
            code, out = witness_program("--key", key_path, "--init")
            assert code == 0, out
            public_key = out.strip().splitlines()[-1]
            by = world.platform_admin() if kind != "committee_member" else scene.committee
            resp = client.post(f"/api/v1/communities/{scene.cid}/witnesses", headers=by["headers"],
                               json={"kind": kind, "name": name, "public_key": public_key})
            assert resp.status_code == 201, resp.json
            self.items.append({"key": key_path, "state": state, "public_key": public_key, "name": name,
                               "id": resp.json["id"], "witness_id": resp.json["witness_id"]})

    def run(self, base, i):
        db.session.remove()  # see what the test client committed; and let gunicorn see it
        w = self.items[i]
        return witness_program("--server", base, "--key", w["key"], "--state", w["state"], "--once")


def test_registry_quorum_and_the_vote_page(scene, client, world, tmp_path):
    owner = scene.owner("张伟", "1", "1", "101")
    admin = world.platform_admin()
    key = lambda: public(Ed25519PrivateKey.generate())  # noqa: E731
    url = f"/api/v1/communities/{scene.cid}/witnesses"
    refused = client.post(url, headers=scene.committee["headers"],
                          json={"kind": "street_office", "name": "街道办", "public_key": key()})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "witness_kind_forbidden"
    assert client.post(url, headers=owner["headers"], json={"kind": "committee_member", "name": "x",
                                                             "public_key": key()}).status_code == 403
    street = client.post(url, headers=admin["headers"], json={"kind": "street_office", "name": "街道办", "public_key": key()})
    assert street.status_code == 201 and street.json["witness_id"] == f"w{street.json['id']}"
    again = client.post(url, headers=admin["headers"], json={"kind": "residents_committee", "name": "居委会",
                                                              "public_key": street.json["public_key"]})
    assert again.status_code == 409 and again.json["error"]["code"] == "witness_key_taken"
    bad = client.post(url, headers=admin["headers"], json={"kind": "residents_committee", "name": "居委会",
                                                            "public_key": "not-a-key"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_public_key"
    member = client.post(url, headers=scene.committee["headers"],
                         json={"kind": "committee_member", "name": "委员", "public_key": key()})
    assert member.status_code == 201
    listed = client.get(url, headers=owner["headers"]).json
    assert [w["kind"] for w in listed["items"]] == ["street_office", "committee_member"]
    assert listed["default_quorum"] == 1  # the one official witness
    # Retiring: the committee retires its member, never the street office's witness.
    assert client.delete(f"{url}/{street.json['id']}", headers=scene.committee["headers"]).json["error"]["code"] \
        == "witness_kind_forbidden"
    assert client.delete(f"{url}/{member.json['id']}", headers=scene.committee["headers"]).status_code == 200
    assert client.delete(f"{url}/{member.json['id']}", headers=scene.committee["headers"]).json["error"]["code"] \
        == "witness_retired"
    assert client.delete(f"{url}/99999", headers=scene.committee["headers"]).json["error"]["code"] == "witness_not_found"
    # A quorum the registry cannot reach is refused when opening, not silently lowered.
    draft = scene.draft(witness_quorum=2)
    assert draft["witness_quorum"] == 2 and draft["witnesses"] == []
    refused = client.post(f"/api/v1/votes/{draft['id']}/open", headers=scene.committee["headers"])
    assert refused.status_code == 409 and refused.json["error"]["code"] == "witness_quorum_unreachable"
    client.patch(f"/api/v1/votes/{draft['id']}", headers=scene.committee["headers"], json={"witness_quorum": None})
    opened = scene.open(draft["id"])
    assert opened["witness_quorum"] == 1 and opened["definition"]["witness_quorum"] == 1
    assert opened["witnesses"] == [{"id": street.json["witness_id"], "name": "街道办", "kind": "street_office",
                                    "public_key": street.json["public_key"]}]
    assert client.get(f"/api/v1/votes/{draft['id']}", headers=owner["headers"]).json["witnesses"] == opened["witnesses"]
    head = client.get(f"/api/v1/votes/{draft['id']}/tree-head", headers=owner["headers"]).json
    assert (head["witness_quorum"], head["cosigned"], head["cosignatures"]) == (1, False, [])
    none = client.get(f"/api/v1/votes/{draft['id']}/tree-head?cosigned=true", headers=owner["headers"])
    assert none.status_code == 409 and none.json["error"]["code"] == "no_cosigned_head"


def test_witness_processes_cosign_and_the_tally_waits_for_the_quorum(scene, client, world, clock, app, tmp_path):
    witnesses = Witnesses(scene, world, client, tmp_path)
    scene.owner("张伟", "1", "1", "101")
    scene.owner("赵敏", "2", "1", "103")
    scene.register_key("张伟")
    scene.register_key("赵敏")
    draft = scene.draft()
    opened = scene.open(draft["id"])
    vid, vote_id = draft["id"], opened["vote_id"]
    assert opened["definition"]["witness_quorum"] == 2  # the street office and the residents' committee
    assert [w["id"] for w in opened["definition"]["witnesses"]] == [w["witness_id"] for w in witnesses.items]
    receipts = [scene.cast(vid, "张伟", vote_id, {"option": "approve"}).json]
    with serving(app, tmp_path, 2, 4) as (base, _):
        for i in (0, 1):
            code, out = witnesses.run(base, i)
            assert code == 0 and f"co-signed {vote_id} at size 2" in out, out
        head = client.get(f"/api/v1/votes/{vid}/tree-head?cosigned=true", headers=scene.committee["headers"]).json
        assert head["cosigned"] and head["tree_head"]["size"] == 2
        assert sorted(c["witness"] for c in head["cosignatures"]) == sorted(w["witness_id"] for w in witnesses.items[:2])
        receipts.append(scene.cast(vid, "赵敏", vote_id, {"option": "reject"}).json)
        receipts.append(scene.cast(vid, "张伟", vote_id, {"option": "approve"}).json)
        code, out = witnesses.run(base, 0)  # proves 2 → 4 consistent and co-signs
        assert code == 0 and "at size 4" in out, out
        assert witnesses.run(base, 0)[1].count("co-signed") == 0  # nothing new: nothing co-signed twice
        clock(datetime.now(timezone.utc) + timedelta(hours=2))
        closed = client.post(f"/api/v1/votes/{vid}/close", headers=scene.committee["headers"]).json
        assert closed["published"] is False and closed["tally"] is None and closed["notice"] is None
        assert [w["name"] for w in closed["witnesses"]["missing"]] == [w["name"] for w in witnesses.items]
        receipts.append(closed["close_receipt"])
        waiting = client.get(f"/api/v1/votes/{vid}/bundle", headers=scene.committee["headers"])
        assert waiting.status_code == 409 and waiting.json["error"]["code"] == "tally_awaiting_witnesses"
        code, _ = witnesses.run(base, 2)  # the member co-signs the close head: 1 of 2
        assert code == 0
        tally = client.get(f"/api/v1/votes/{vid}/tally", headers=scene.owners["张伟"]["headers"]).json
        assert tally["published"] is False and [w["kind"] for w in tally["witnesses"]["cosigned"]] == ["committee_member"]
        code, _ = witnesses.run(base, 1)  # the residents' committee completes the quorum: published
        assert code == 0
        tally = client.get(f"/api/v1/votes/{vid}/tally", headers=scene.owners["张伟"]["headers"]).json
        assert tally["published"] is True and tally["tally"]["passed"] is False  # 1 of 4 rights: no quorum
        assert "见证人：幸福社区居委会、委员 刘洋 联署了最终树头" in tally["notice"]["text"]
        assert tally["notice"]["notice_id"] is not None
        code, _ = witnesses.run(base, 0)  # the street office, later, co-signs too
        assert code == 0
        for i in range(3):  # nothing left to do for anyone
            assert "co-signed" not in witnesses.run(base, i)[1]
    bundle = client.get(f"/api/v1/votes/{vid}/bundle", headers=scene.committee["headers"])
    assert bundle.status_code == 200
    final = [c for c in json.loads(bundle.data)["cosignatures"] if c["size"] == tally["tally"]["size"]]
    assert len(final) == 3
    code, out = verify_bundle(tmp_path, bundle.data, receipts)
    assert code == 0, out
    assert out.count("通过 PASS") == 14 + len(receipts) and "14. 见证法定数 / witness quorum … 通过 PASS" in out


def _cosign_setup(scene, client, world):
    """A vote with one witness (the street office) of which the test holds the key; returns what it needs."""
    key = Ed25519PrivateKey.generate()
    witness = client.post(f"/api/v1/communities/{scene.cid}/witnesses", headers=world.platform_admin()["headers"],
                          json={"kind": "street_office", "name": "街道办", "public_key": public(key)}).json
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    draft = scene.draft()
    opened = scene.open(draft["id"])
    scene.cast(draft["id"], "张伟", opened["vote_id"], {"option": "approve"})
    head = client.get(f"/api/v1/votes/{draft['id']}/tree-head", headers=scene.committee["headers"]).json["tree_head"]
    return key, witness, draft["id"], opened["vote_id"], head


def test_every_refusal_of_the_cosignature_route(scene, client, world, monkeypatch):
    key, witness, vid, vote_id, head = _cosign_setup(scene, client, world)
    wid = witness["witness_id"]

    def post(body, ref=vid):
        return client.post(f"/api/v1/votes/{ref}/cosignatures", json=body)

    def cosig(size=head["size"], root=head["root"], by=key, vote=vote_id, who=wid):
        return make_cosignature(by, vote, size, root, who, stamp())

    good = cosig()
    first = post(good)
    assert first.status_code == 201 and first.json["cosigned"] and first.json["cosigners"] == [wid]
    replay = post(good)
    assert replay.status_code == 409 and replay.json["error"]["code"] == "cosignature_exists"
    assert post(cosig(size=head["size"] + 5)).json["error"]["code"] == "cosignature_size_unknown"
    assert post(cosig(size=1)).json["error"]["code"] == "cosignature_root_mismatch"
    bad = dict(good, root="zz")
    assert post(bad).json["error"]["code"] == "malformed_cosignature"
    # Another vote of the same community, same witness: its co-signature posted here.
    other = scene.draft()
    other_id = scene.open(other["id"])["vote_id"]
    elsewhere = post(cosig(size=1, root=head["root"], vote=other_id))
    assert elsewhere.status_code == 422 and elsewhere.json["error"]["code"] == "vote_id_mismatch"
    # Whoever is no witness of the vote gets one answer, whether the vote exists or not.
    stranger = Ed25519PrivateKey.generate()
    answers = [post(cosig(by=stranger)), post(cosig(by=stranger, who="w9999")), post(cosig(), ref=999999),
               post(cosig(), ref="v999-0123abcd"), post(dict(good, signature=cosig(by=stranger)["signature"]))]
    draft = scene.draft()
    answers.append(post(cosig(), ref=draft["id"]))
    assert {(a.status_code, json.dumps(a.json, sort_keys=True)) for a in answers} == {
        (403, json.dumps({"error": {"code": "witness_unknown", "message": "签名者不是本表决的见证人，或表决不存在",
                                    "details": {}}}, sort_keys=True))}
    # Rate-limited per address before anything is checked.
    monkeypatch.setattr(cosigning, "POSTS_PER_MINUTE", 2)
    limited = [post(good) for _ in range(3)]
    assert limited[-1].status_code == 429 and limited[-1].json["error"]["code"] == "too_many_requests"


def test_signed_reads_for_witnesses_only(scene, client, world):
    key, witness, vid, vote_id, head = _cosign_setup(scene, client, world)

    def get(target, by=key, when=None, headers=None):
        signed = sign_request(by, public(by), "GET", target, stamp(when))
        return client.get(target, headers=signed if headers is None else headers)

    listing = get("/api/v1/witness/votes")
    assert listing.status_code == 200
    assert listing.json["votes"] == [{"id": vid, "vote_id": vote_id, "community_id": scene.cid, "state": "open",
                                      "size": head["size"]}]
    assert get(f"/api/v1/witness/votes?community={scene.cid + 1}").json["votes"] == []
    view = get(f"/api/v1/witness/votes/{vote_id}/head?first=1").json
    assert view["tree_head"] == head and view["definition"]["vote_id"] == vote_id and view["consistency_proof"]
    assert get(f"/api/v1/witness/votes/{vote_id}/head?first=99").json["consistency_proof"] is None
    missing = client.get("/api/v1/witness/votes")
    assert missing.status_code == 401 and missing.json["error"]["code"] == "witness_signature_required"
    stale = get("/api/v1/witness/votes", when=datetime.now(timezone.utc) - timedelta(minutes=10))
    assert stale.status_code == 401 and stale.json["error"]["code"] == "witness_signature_invalid"
    other_target = sign_request(key, public(key), "GET", "/api/v1/witness/votes?community=1", stamp())
    assert client.get("/api/v1/witness/votes", headers=other_target).json["error"]["code"] == "witness_signature_invalid"
    stranger = get("/api/v1/witness/votes", by=Ed25519PrivateKey.generate())
    assert stranger.status_code == 403 and stranger.json["error"]["code"] == "witness_unknown"
    # A witness of this community asking about a vote that does not name it: as if there were none.
    newcomer = Ed25519PrivateKey.generate()
    client.post(f"/api/v1/communities/{scene.cid}/witnesses", headers=scene.committee["headers"],
                json={"kind": "committee_member", "name": "新委员", "public_key": public(newcomer)})
    for ref in (vote_id, "v999-0123abcd"):
        resp = get(f"/api/v1/witness/votes/{ref}/head", by=newcomer)
        assert resp.status_code == 404 and resp.json["error"]["code"] == "vote_not_found"
