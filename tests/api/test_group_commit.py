"""Group commit (backend/services/votes.py _GroupCommit): casts into one vote that reach a process
while a batch is being appended are appended together, in one transaction, by the first of them;
a cast that does not stand is left out and refused on its own, with its precise code; a batch that
cannot commit is retried one cast at a time. The batches are made deterministic here by holding the
first leader until the other casts have queued behind it."""
import fcntl
import os
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.extensions import db
from backend.models import VoteEntry
from backend.services import votes as vote_service
from tests.api.test_votes import envelope, receipt_holds, scene  # noqa: F401 — the fixture
from voting.merkle import Frontier, leaf_hash, root_from_leaf_hashes

QUEUED = 5  # casts that queue behind the first one


class Batches(list):
    """The size of every batch appended; once `hold` is set, the next leader waits until QUEUED
    casts have queued behind it."""

    hold = False


@pytest.fixture
def batches(monkeypatch):
    sizes = Batches()
    append = vote_service._append_casts

    def held(opened, casts, *rest):
        sizes.append(len(casts))
        if sizes.hold:
            sizes.hold = False
            deadline = time.monotonic() + 20
            while len(vote_service._group_commit._queues.get(opened.id, ())) < QUEUED:
                assert time.monotonic() < deadline, "the other casts never queued"
                time.sleep(0.002)
        append(opened, casts, *rest)

    monkeypatch.setattr(vote_service, "_append_casts", held)
    return sizes


def _post_in_order(app, jobs):
    """POST each (headers, path, body) from its own thread and test client, starting them one after
    another so that the first leads; returns the responses in job order."""
    answers = [None] * len(jobs)

    def post(i, headers, path, body):
        answers[i] = app.test_client().post(path, headers=headers, json=body)

    threads = []
    for i, job in enumerate(jobs):
        threads.append(threading.Thread(target=post, args=(i, *job)))
        threads[-1].start()
        if i == 0:  # the leader first: it holds its batch open until the rest queue
            deadline = time.monotonic() + 20
            while not vote_service._group_commit._queues:
                assert time.monotonic() < deadline
                time.sleep(0.002)
    for t in threads:
        t.join(60)
    return answers


@pytest.mark.parametrize("odd", ["none", "someone_elses_right", "replayed_nonce"])
def test_casts_that_arrive_together_share_one_transaction(scene, app, batches, odd):
    zhang, zhao = scene.owner("张伟", "1", "1", "101"), scene.owner("赵敏", "2", "1", "103")
    scene.owner("李娜", "1", "1", "102")
    for name in ("张伟", "赵敏", "李娜"):
        scene.register_key(name)
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    rights = {name: scene.rights(vid, name)[0]["right_id"] for name in ("张伟", "赵敏", "李娜")}
    # a cast on its own is a batch of one
    assert scene.cast(vid, "李娜", vote_id, {"option": "abstain"}).status_code == 201
    assert batches == [1]
    batches.clear()
    batches.hold = True
    size = scene.size(vid)

    path = f"/api/v1/votes/{vid}/ballots"
    names = ["张伟", "赵敏", "李娜", "张伟", "赵敏", "李娜"]
    jobs = [(scene.owners[n]["headers"], path, envelope(scene.keys[n], vote_id, rights[n], {"option": "approve"}))
            for n in names]
    expected = [201] * len(jobs)
    if odd == "someone_elses_right":  # 赵敏 signs a ballot for 张伟's right with her own key
        jobs[3] = (zhao["headers"], path, envelope(scene.keys["赵敏"], vote_id, rights["张伟"], {"option": "reject"}))
        expected[3] = 403
    if odd == "replayed_nonce":  # the same signed ballot sent twice within one batch
        jobs[4] = jobs[2]
        expected[4] = 409
    answers = _post_in_order(app, jobs)

    # the first cast led a batch of its own; the other five queued and went in as one batch
    assert batches == [1, QUEUED]
    statuses = [r.status_code for r in answers]
    if odd == "replayed_nonce":  # the batch failed on the unique nonce; each cast was retried alone
        assert sorted(statuses[2::2]) == [201, 409] and [statuses[i] for i in (0, 1, 3, 5)] == [201] * 4
        refused = answers[2] if statuses[2] == 409 else answers[4]
        assert refused.json["error"]["code"] == "nonce_used"
    else:
        assert statuses == expected, [r.json for r in answers]
    if odd == "someone_elses_right":
        assert answers[3].json["error"]["code"] == "not_your_right"
    receipts = [r.json for r in answers if r.status_code == 201]
    assert all(receipt_holds(r, server_key) for r in receipts)
    assert sorted(r["leaf_index"] for r in receipts) == list(range(size, size + len(receipts)))

    db.session.remove()
    leaves = db.session.execute(db.select(VoteEntry.leaf).filter_by(vote_id=vid).order_by(VoteEntry.idx)).scalars()
    hashes = [leaf_hash(bytes(leaf)) for leaf in leaves]
    assert len(hashes) == size + len(receipts)
    head = scene.client.get(f"/api/v1/votes/{vid}/tree-head", headers=zhang["headers"]).json
    assert (head["size"], head["root"]) == (len(hashes), root_from_leaf_hashes(hashes).hex())
    # every receipt's own head is the one stored for its size
    for receipt in receipts:
        stored = scene.client.get(f"/api/v1/votes/{vid}/proofs/inclusion", headers=zhang["headers"], query_string={
            "leaf_index": receipt["leaf_index"], "size": receipt["tree_head"]["size"]}).json
        assert stored["tree_head"] == receipt["tree_head"]


def test_an_append_between_a_batchs_read_and_its_write_is_not_lost(scene, app, monkeypatch):
    """Another append lands while a batch is being built. PostgreSQL appends without holding the
    lock between reading the log and writing it, so the batch's compare-and-set fails, the batch is
    read and built again and lands after it; SQLite holds its write lock, so the other append waits
    and lands after the batch. Either way both are in the log exactly once, in a valid tree."""
    zhang, _ = scene.owner("张伟", "1", "1", "101"), scene.owner("赵敏", "2", "1", "103")
    for name in ("张伟", "赵敏"):
        scene.register_key(name)
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    rights = {name: scene.rights(vid, name)[0]["right_id"] for name in ("张伟", "赵敏")}
    size = scene.size(vid)
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:  # no frontier left by an earlier batch (of an earlier test's vote of this id): read the log
        with app.app_context():
            path = vote_service.turn_path(vid)
        if os.path.exists(path):
            os.remove(path)

    interleaved, builds = {}, []
    append = vote_service._Log.append

    def append_and_interleave(book, *args, **kwargs):
        builds.append(book.first)
        if "thread" not in interleaved:
            def other():
                with app.app_context():
                    env = envelope(scene.keys["赵敏"], vote_id, rights["赵敏"], {"option": "reject"})
                    interleaved["receipt"] = vote_service.cast_ballot(scene.owners["赵敏"]["id"], vid, env)
                    db.session.remove()
            interleaved["thread"] = threading.Thread(target=other)
            interleaved["thread"].start()
            if postgresql:  # nothing is locked: the other append completes before this batch writes
                interleaved["thread"].join(30)
        return append(book, *args, **kwargs)

    monkeypatch.setattr(vote_service._Log, "append", append_and_interleave)
    resp = scene.cast(vid, "张伟", vote_id, {"option": "approve"}, right_id=rights["张伟"])
    interleaved["thread"].join(30)
    assert resp.status_code == 201, resp.json
    mine, other = resp.json, interleaved["receipt"]
    assert receipt_holds(mine, server_key) and receipt_holds(other, server_key)
    if postgresql:  # built on the log as read; the other append (built on the same log) lands; the
        # batch's write finds the log moved, and it is built again on the log read again
        assert builds == [size, size, size + 1] and (other["leaf_index"], mine["leaf_index"]) == (size, size + 1)
    else:  # the other append queued behind the batch's write lock, and was built after it
        assert builds == [size, size + 1] and (mine["leaf_index"], other["leaf_index"]) == (size, size + 1)
    db.session.remove()
    leaves = db.session.execute(db.select(VoteEntry.leaf).filter_by(vote_id=vid).order_by(VoteEntry.idx)).scalars()
    hashes = [leaf_hash(bytes(leaf)) for leaf in leaves]
    head = scene.client.get(f"/api/v1/votes/{vid}/tree-head", headers=zhang["headers"]).json
    assert len(hashes) == size + 2
    assert (head["size"], head["root"]) == (size + 2, root_from_leaf_hashes(hashes).hex())


def test_a_cast_waits_while_another_worker_of_the_host_appends(scene, app):
    """While another worker of this host appends to the vote — it holds the vote's turn file on
    PostgreSQL (votes.turn_path), the database's writers' queue on SQLite — a cast waits, appends
    nothing, and lands as soon as the other is done. (On PostgreSQL the turn only spares the workers
    redoing each other's batches; without it the cast would land at once.)"""
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    size = scene.size(vid)
    with app.app_context():
        path = (vote_service.turn_path(vid) if db.engine.dialect.name == "postgresql"
                else db.engine.url.database + "-writers.lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    other = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(other, fcntl.LOCK_EX)
    answer = {}

    def cast():
        answer["response"] = app.test_client().post(
            f"/api/v1/votes/{vid}/ballots", headers=scene.owners["张伟"]["headers"],
            json=envelope(scene.keys["张伟"], vote_id, scene.rights(vid, "张伟")[0]["right_id"], {"option": "approve"}))

    thread = threading.Thread(target=cast)
    try:
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and "response" not in answer
        assert scene.size(vid) == size
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    thread.join(30)
    assert answer["response"].status_code == 201, answer["response"].json
    assert answer["response"].json["leaf_index"] == size and scene.size(vid) == size + 1


def test_a_frontier_left_in_the_turn_file_is_only_a_hint(scene, app):
    """PostgreSQL: a batch builds on the frontier the last batch left in the vote's turn file, and
    its write checks that frontier against the log's. One of the right size but the wrong nodes
    (left by an earlier database, or torn) — or of the wrong size, or unreadable — only costs a read
    of the log: the cast lands where it belongs, in a valid tree, and the file is put right. (On
    SQLite the turn file is not used; the cast lands all the same.)"""
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    right = scene.rights(vid, "张伟")[0]["right_id"]
    with app.app_context():
        path = vote_service.turn_path(vid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    for forged in ("same size, other nodes", "other size", "garbage"):
        size = scene.size(vid)
        with open(path, "wb") as fh:
            if forged == "garbage":
                fh.write(b"not a frontier")
            else:
                fake = Frontier()
                for i in range(size if forged == "same size, other nodes" else size + 1):
                    fake.append(bytes([i + 1]) * 32)
                fh.write(vote_service._TURN_FORMAT.pack(b"LNF1", fake.size) + b"".join(fake.nodes()))
        resp = scene.cast(vid, "张伟", vote_id, {"option": "approve"}, right_id=right)
        assert resp.status_code == 201, resp.json
        assert resp.json["leaf_index"] == size and receipt_holds(resp.json, server_key)
        db.session.remove()
        leaves = db.session.execute(
            db.select(VoteEntry.leaf).filter_by(vote_id=vid).order_by(VoteEntry.idx)).scalars().all()
        root = root_from_leaf_hashes([leaf_hash(bytes(leaf)) for leaf in leaves]).hex()
        assert len(leaves) == size + 1 and resp.json["tree_head"]["root"] == root
        if db.engine.dialect.name == "postgresql":
            with open(path, "rb") as fh:
                left = fh.read()
            assert left.startswith(vote_service._TURN_FORMAT.pack(b"LNF1", size + 1))


def test_a_write_on_a_frontier_left_by_the_last_batch_checks_the_standing_itself(scene, app, world):
    """PostgreSQL: once a cast has landed, the turn file holds the log's current frontier, and the
    next batch is written without reading anything first — so the write itself must refuse a cast
    that does not stand. Each such cast is refused with its precise code and the log is unchanged."""
    zhang, zhao = scene.owner("张伟", "1", "1", "101"), scene.owner("赵敏", "2", "1", "103")
    for name in ("张伟", "赵敏"):
        scene.register_key(name)
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    right = scene.rights(vid, "张伟")[0]["right_id"]
    path = f"/api/v1/votes/{vid}/ballots"
    client = app.test_client()
    assert scene.cast(vid, "张伟", vote_id, {"option": "approve"}, right_id=right).status_code == 201
    size = scene.size(vid)
    second = world.login(zhang["openid"])
    assert client.post("/api/v1/auth/logout", headers=second["headers"]).status_code == 204
    for headers, key, status, code in (
        (zhao["headers"], scene.keys["赵敏"], 403, "not_your_right"),  # another owner, for his right
        (zhang["headers"], Ed25519PrivateKey.generate(), 403, "key_not_bound"),
        (second["headers"], scene.keys["张伟"], 401, "token_revoked"),
    ):
        resp = client.post(path, headers=headers, json=envelope(key, vote_id, right, {"option": "reject"}))
        assert (resp.status_code, resp.json["error"]["code"]) == (status, code), resp.json
        assert scene.size(vid) == size, code
    assert scene.cast(vid, "张伟", vote_id, {"option": "reject"}, right_id=right).json["leaf_index"] == size
