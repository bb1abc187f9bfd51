"""Group commit and the log's lock (backend/services/votes/casting.py): casts into one vote that
reach a process while a batch is being appended are appended together, in one transaction, by the
first of them; a cast that the one rule refuses is left out with its precise code; a batch that
fails fails every cast in it. Across processes (or hosts) only the database's lock on the log orders
appends. The batches are made deterministic here by holding the first leader until the other casts
have queued behind it."""
import os
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from backend.extensions import db
from backend.models import AuthSession, VoteEntry
from backend.services.votes import casting, log as vote_log
from tests.api.test_votes import envelope, receipt_holds, scene  # noqa: F401 — the fixture
from voting.merkle import leaf_hash, root_from_leaf_hashes

QUEUED = 5  # casts that queue behind the first one


class Batches(list):
    """The size of every batch appended; once `hold` is set, the next leader waits until QUEUED
    casts have queued behind it."""

    hold = False


@pytest.fixture
def batches(monkeypatch):
    sizes = Batches()
    append = casting.append_casts

    def held(vote, state, casts, *rest):
        sizes.append(len(casts))
        if sizes.hold:
            sizes.hold = False
            deadline = time.monotonic() + 20
            while len(casting._group_commit._queues.get(vote.id, ())) < QUEUED:
                assert time.monotonic() < deadline, "the other casts never queued"
                time.sleep(0.002)
        append(vote, state, casts, *rest)

    monkeypatch.setattr(casting, "append_casts", held)
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
            while not casting._group_commit._queues:
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
    if odd == "replayed_nonce":  # the rule saw the nonce used earlier in the batch
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
    head = scene.client.get(f"/api/v1/votes/{vid}/tree-head", headers=zhang["headers"]).json["tree_head"]
    assert (head["size"], head["root"]) == (len(hashes), root_from_leaf_hashes(hashes).hex())
    # every receipt's own head is the one stored for its size
    for receipt in receipts:
        stored = scene.client.get(f"/api/v1/votes/{vid}/proofs/inclusion", headers=zhang["headers"], query_string={
            "leaf_index": receipt["leaf_index"], "size": receipt["tree_head"]["size"]}).json
        assert stored["tree_head"] == receipt["tree_head"]


def _session_id(user):
    return db.session.execute(db.select(AuthSession.id).filter_by(user_id=user["id"])
                              .order_by(AuthSession.created_at.desc())).scalars().first()


def test_an_append_that_arrives_during_a_batch_waits_for_the_logs_lock(scene, app, monkeypatch):
    """Another append (here from outside the group: another worker, another host) arrives while a
    batch holds the log's lock and is being built. It waits for the lock and is built on the log
    the batch left, so both are in the log exactly once, in a valid tree, on both databases."""
    zhang, zhao = scene.owner("张伟", "1", "1", "101"), scene.owner("赵敏", "2", "1", "103")
    for name in ("张伟", "赵敏"):
        scene.register_key(name)
    vid = scene.draft()["id"]
    opened = scene.open(vid)
    vote_id, server_key = opened["vote_id"], opened["definition"]["server_key"]
    rights = {name: scene.rights(vid, name)[0]["right_id"] for name in ("张伟", "赵敏")}
    zhao_session = _session_id(zhao)
    size = scene.size(vid)

    interleaved, builds = {}, []
    append = vote_log.Log.append

    def append_and_interleave(book, *args, **kwargs):
        builds.append(book.size)
        if "thread" not in interleaved:
            def other():
                with app.app_context():
                    env = envelope(scene.keys["赵敏"], vote_id, rights["赵敏"], {"option": "reject"})
                    [interleaved["receipt"]] = casting.cast_ballots(vid, [(zhao_session, env)])
                    db.session.remove()
            interleaved["thread"] = threading.Thread(target=other)
            interleaved["thread"].start()
            interleaved["thread"].join(0.5)
            assert interleaved["thread"].is_alive(), "the other append did not wait for the lock"
        return append(book, *args, **kwargs)

    monkeypatch.setattr(vote_log.Log, "append", append_and_interleave)
    resp = scene.cast(vid, "张伟", vote_id, {"option": "approve"}, right_id=rights["张伟"])
    interleaved["thread"].join(30)
    assert resp.status_code == 201, resp.json
    mine, other = resp.json, interleaved["receipt"]
    assert receipt_holds(mine, server_key) and receipt_holds(other, server_key)
    assert builds == [size, size + 1] and (mine["leaf_index"], other["leaf_index"]) == (size, size + 1)
    db.session.remove()
    leaves = db.session.execute(db.select(VoteEntry.leaf).filter_by(vote_id=vid).order_by(VoteEntry.idx)).scalars()
    hashes = [leaf_hash(bytes(leaf)) for leaf in leaves]
    head = scene.client.get(f"/api/v1/votes/{vid}/tree-head", headers=zhang["headers"]).json["tree_head"]
    assert len(hashes) == size + 2
    assert (head["size"], head["root"]) == (size + 2, root_from_leaf_hashes(hashes).hex())


def _hold_the_log(vid):
    """Another connection — as another worker or host would — takes the log's lock and keeps it
    until released: PostgreSQL the vote's frontier row, SQLite the database's write lock."""
    conn = db.engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT size FROM vote_frontier WHERE vote_id = :v FOR UPDATE"), {"v": vid})
    else:
        conn.exec_driver_sql("UPDATE vote_frontier SET size = size WHERE vote_id = ?", (vid,))
    return conn


def test_a_cast_waits_while_another_process_holds_the_logs_lock(scene, app):
    """While another process holds the log's lock, a cast waits, appends nothing, and lands as soon
    as the lock is released; nothing is written under the instance folder."""
    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    size = scene.size(vid)
    right = scene.rights(vid, "张伟")[0]["right_id"]
    holder = _hold_the_log(vid)
    answer = {}

    def cast():
        answer["response"] = app.test_client().post(
            f"/api/v1/votes/{vid}/ballots", headers=scene.owners["张伟"]["headers"],
            json=envelope(scene.keys["张伟"], vote_id, right, {"option": "approve"}))

    thread = threading.Thread(target=cast)
    try:
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and "response" not in answer
        assert scene.size(vid) == size
    finally:
        holder.rollback()
        holder.close()
    thread.join(30)
    assert answer["response"].status_code == 201, answer["response"].json
    assert answer["response"].json["leaf_index"] == size and scene.size(vid) == size + 1
    assert not os.path.exists(os.path.join(app.config["INSTANCE_PATH"], "cast-turns"))


def test_a_batch_that_fails_fails_every_cast_in_it_and_writes_nothing(scene, app, batches, monkeypatch):
    """The database fails while a batch is written (here: the connection is lost): every cast of the
    batch gets 503 `database_unavailable` with Retry-After, nothing of the batch is in the log, and
    the next cast lands."""
    for name in ("张伟", "赵敏", "李娜"):
        scene.owner(name, *{"张伟": ("1", "1", "101"), "赵敏": ("2", "1", "103"), "李娜": ("1", "1", "102")}[name])
        scene.register_key(name)
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    rights = {name: scene.rights(vid, name)[0]["right_id"] for name in ("张伟", "赵敏", "李娜")}
    size = scene.size(vid)
    write = vote_log.Log.write

    def broken(book, *args, **kwargs):
        raise OperationalError("INSERT INTO vote_entries …", {}, Exception("server closed the connection"))

    monkeypatch.setattr(vote_log.Log, "write", broken)
    batches.hold = True
    path = f"/api/v1/votes/{vid}/ballots"
    names = ["张伟", "赵敏", "李娜", "张伟", "赵敏", "李娜"]
    jobs = [(scene.owners[n]["headers"], path, envelope(scene.keys[n], vote_id, rights[n], {"option": "approve"}))
            for n in names]
    answers = _post_in_order(app, jobs)
    assert batches == [1, QUEUED]
    assert [r.status_code for r in answers] == [503] * len(jobs), [r.json for r in answers]
    assert all(r.json["error"]["code"] == "database_unavailable" and r.headers["Retry-After"] for r in answers)
    assert scene.size(vid) == size
    monkeypatch.setattr(vote_log.Log, "write", write)
    assert scene.cast(vid, "张伟", vote_id, {"option": "reject"}, right_id=rights["张伟"]).json["leaf_index"] == size


def test_refusals_after_a_landed_cast_leave_the_log_unchanged(scene, app, world):
    """Once a cast has landed, casts that do not stand are refused with their precise codes and the
    log is unchanged; the next good cast lands where it belongs."""
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


def test_the_logs_unique_nonce_index_is_the_last_guard(scene, app, monkeypatch):
    """Should the facts read under the lock ever miss a used nonce, the log's unique index refuses
    the write; nothing is written and the cast is decided once more — now refused, nonce_used."""
    from backend.services.votes import standing

    scene.owner("张伟", "1", "1", "101")
    scene.register_key("张伟")
    vid = scene.draft()["id"]
    vote_id = scene.open(vid)["vote_id"]
    right = scene.rights(vid, "张伟")[0]["right_id"]
    first = envelope(scene.keys["张伟"], vote_id, right, {"option": "approve"})
    path = f"/api/v1/votes/{vid}/ballots"
    assert scene.client.post(path, headers=scene.owners["张伟"]["headers"], json=first).status_code == 201
    size = scene.size(vid)
    reads, read = [], standing.Facts.__init__

    def forgetful(facts, vote, casts):
        read(facts, vote, casts)
        reads.append(set(facts.nonces))
        if len(reads) == 1:
            facts.nonces.clear()  # the first read misses the nonce already in the log

    monkeypatch.setattr(standing.Facts, "__init__", forgetful)
    resp = scene.client.post(path, headers=scene.owners["张伟"]["headers"], json=first)
    assert (resp.status_code, resp.json["error"]["code"]) == (409, "nonce_used"), resp.json
    assert reads == [{first["ballot"]["nonce"]}] * 2 and scene.size(vid) == size
