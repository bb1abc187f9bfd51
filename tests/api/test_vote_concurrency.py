"""Concurrent casting against a real multi-worker gunicorn (docs/votes.md "The log's lock"), with sync
workers and with threaded ones, whose casts arriving together share a transaction (group commit):
appends to one vote are serialised by its row lock (PostgreSQL SELECT … FOR UPDATE; the write lock
on SQLite), each acknowledged only after commit. Runs on whatever DATABASE_URL the suite runs on."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.extensions import db
from backend.models import VoteEntry
from tests.api.test_votes import envelope, public, receipt_holds, stamp, verify_bundle
from tests.servers import serving
from tests.support import id_number
from voting.counting import count_log
from voting.merkle import leaf_hash, root_from_leaf_hashes

DISTINCT = 50
SAME_RIGHT = 20


@pytest.fixture(params=[1, 8], ids=["sync", "threads"])
def gunicorn(app, tmp_path, request):
    """gunicorn -w 4: sync workers, and 8 threads each (group commit)."""
    with serving(app, tmp_path, 4, request.param) as (base, _):
        yield base


def _post_all(base, jobs):
    """POST every (headers, path, body) at once from its own thread (started together); returns the responses."""
    barrier = threading.Barrier(len(jobs))

    def post(job):
        headers, path, body = job
        session = requests.Session()
        barrier.wait()
        return session.post(base + path, headers=headers, json=body, timeout=60)

    with ThreadPoolExecutor(len(jobs)) as pool:
        return list(pool.map(post, jobs))


def _log_leaves(vid):
    db.session.remove()  # read what the workers committed, not a cached view
    rows = db.session.execute(db.select(VoteEntry.idx, VoteEntry.leaf, VoteEntry.leaf_hash)
                              .filter_by(vote_id=vid).order_by(VoteEntry.idx)).all()
    assert [r.idx for r in rows] == list(range(len(rows)))
    assert all(bytes(r.leaf_hash) == leaf_hash(bytes(r.leaf)) for r in rows)
    return [bytes(r.leaf) for r in rows]


def test_concurrent_casts_distinct_rights_and_one_right(world, client, gunicorn, monkeypatch, tmp_path):
    cid = world.community()
    committee = world.member(cid, "committee")
    rows = [("1", str(1 + i // 10), f"{101 + i % 10}", "88.88", f"业主{i:02d}", f"139{i:08d}", id_number(100 + i),
             "person") for i in range(DISTINCT)]
    assert world.import_registry(cid, rows, user=committee).status_code == 200
    owners = []
    for building, unit, room, _, name, phone, _, _ in rows:
        user = world.owner(cid, building, unit, room, name, phone)
        user["key"] = Ed25519PrivateKey.generate()
        resp = client.post("/api/v1/me/keys", headers=user["headers"], json={"public_key": public(user["key"])})
        assert resp.status_code == 201
        owners.append(user)
    now = datetime.now(timezone.utc)
    vote = client.post(f"/api/v1/communities/{cid}/votes", headers=committee["headers"], json={
        "title": "并发表决", "kind": "resolution", "opens_at": stamp(now),
        "closes_at": stamp(now + timedelta(hours=1))}).json
    vid = vote["id"]
    opened = client.post(f"/api/v1/votes/{vid}/open", headers=committee["headers"]).json
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    for user in owners:
        user["right"] = client.get(f"/api/v1/votes/{vid}/my-rights", headers=user["headers"]).json[0]["right_id"]
    assert len({u["right"] for u in owners}) == DISTINCT
    db.session.remove()

    # 50 owners cast for their own rights at once
    path = f"/api/v1/votes/{vid}/ballots"
    jobs = [(u["headers"], path, envelope(u["key"], vote_id, u["right"], {"option": "approve"})) for u in owners]
    answers = _post_all(gunicorn, jobs)
    assert [r.status_code for r in answers] == [201] * DISTINCT, [r.text for r in answers if r.status_code != 201]
    receipts = [r.json() for r in answers]
    assert all(receipt_holds(r, server_key) for r in receipts)
    assert sorted(r["leaf_index"] for r in receipts) == list(range(1, DISTINCT + 1))
    leaves = _log_leaves(vid)
    assert len(leaves) == DISTINCT + 1
    head = requests.get(f"{gunicorn}/api/v1/votes/{vid}/tree-head", headers=committee["headers"]).json()["tree_head"]
    assert head["size"] == DISTINCT + 1
    assert head["root"] == root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves]).hex()

    # 20 clients cast for the same right (one owner's phone and a co-owner's would look the same)
    voter = owners[0]
    choices = ["approve", "reject", "abstain"]
    jobs = [(voter["headers"], path, envelope(voter["key"], vote_id, voter["right"], {"option": choices[i % 3]}))
            for i in range(SAME_RIGHT)]
    answers = _post_all(gunicorn, jobs)
    assert [r.status_code for r in answers] == [201] * SAME_RIGHT, [r.text for r in answers if r.status_code != 201]
    same = [r.json() for r in answers]
    assert all(receipt_holds(r, server_key) for r in same)
    assert sorted(r["leaf_index"] for r in same) == list(range(DISTINCT + 1, DISTINCT + 1 + SAME_RIGHT))
    leaves = _log_leaves(vid)
    assert len(leaves) == DISTINCT + 1 + SAME_RIGHT
    head = requests.get(f"{gunicorn}/api/v1/votes/{vid}/tree-head", headers=committee["headers"]).json()["tree_head"]
    assert head["root"] == root_from_leaf_hashes([leaf_hash(leaf) for leaf in leaves]).hex()

    # close, download the bundle from gunicorn and verify it with every receipt
    from backend.services.votes import common as vote_common

    monkeypatch.setattr(vote_common, "utcnow", lambda: now + timedelta(hours=2))
    assert client.post(f"/api/v1/votes/{vid}/close", headers=committee["headers"]).status_code == 200
    bundle = requests.get(f"{gunicorn}/api/v1/votes/{vid}/bundle", headers=voter["headers"])
    assert bundle.status_code == 200
    result = count_log(bundle.json()["roll"], bundle.json()["entries"])
    assert result.problems == []
    counted = [i for i, status in result.status.items() if status == "counted"]
    same_indexes = {r["leaf_index"] for r in same}
    # exactly one of the 20 counts — the last in log order — and every other right's single ballot
    assert [i for i in counted if i in same_indexes] == [max(same_indexes)]
    assert sum(1 for i, s in result.status.items() if s == "superseded") == SAME_RIGHT
    assert len(counted) == DISTINCT
    code, output = verify_bundle(tmp_path, bundle.content, receipts + same)
    assert code == 0, output
