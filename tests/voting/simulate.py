"""An honest in-memory vote log, for the tests, bench/verify_bench.py and the worked example of
docs/protocol.md (docs/example-*.json); not used by the server, so not part of the voting package."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from typing import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voting import PROTOCOL_1, PROTOCOL_1_1
from voting.canonical import b64u_encode, canonical, format_time
from voting.counting import count_log, tally_body
from voting.delegations import REVOCATION, make_delegation, make_delegation_entry, sign_delegation
from voting.entries import (
    build_roll,
    make_ballot,
    make_ballot_entry,
    make_close,
    make_definition,
    make_key_binding,
    make_key_revocation,
    make_paper_ballot,
    make_receipt,
    make_tree_head,
    sign_ballot,
)
from voting.bundle import build_bundle
from voting.keys import generate_key, public_key_b64u, sign_object
from voting.merkle import Frontier, inclusion_proof, leaf_hash, root_from_leaf_hashes
from voting.rights import PartInput, Right, compute_rights
from voting.witnesses import make_cosignature

OPENS_AT = datetime(2025, 3, 1, 0, 0, 0, tzinfo=timezone.utc)
CLOSES_AT = datetime(2025, 3, 15, 0, 0, 0, tzinfo=timezone.utc)


def pub(key: Ed25519PrivateKey) -> str:
    """The b64u public key of a private key."""
    return public_key_b64u(key)


def make_rights(areas: Sequence[int]) -> list[Right]:
    """One single-owner right per area (area in 0.01 m²), labelled as flats of building 1."""
    parts = [
        PartInput(part_id=f"p{i}", label=f"1-{i // 100 + 1}-{i % 100 + 101}", area=area, owners=frozenset({f"o{i}"}))
        for i, area in enumerate(areas)
    ]
    return compute_rights(parts)


class VoteBuilder:
    """Plays the server for one vote: freezes the roll, appends entries, issues receipts, closes and tallies.

    `protocol` defaults to linli-vote/1 (the JavaScript library's fixtures, tests/js, are built from
    it); with linli-vote/1.1 the vote has `witnesses` [(id, name, private key)] who co-sign heads
    (`cosign`), and owners may name proxies (`delegate`, `revoke_delegation`)."""

    def __init__(
        self,
        rights: Sequence[Right],
        *,
        kind: str = "resolution",
        matter: str = "ordinary",
        candidates: Sequence[dict] | None = None,
        seats: int | None = None,
        vote_id: str = "v1",
        community_id: str = "c1",
        title: str = "测试表决",
        opens_at: datetime = OPENS_AT,
        closes_at: datetime = CLOSES_AT,
        roll_key_rights: Sequence[str] | None = None,
        server_key: Ed25519PrivateKey | None = None,
        step: timedelta = timedelta(seconds=1),
        key_factory=generate_key,
        roll_keys: dict[str, list[Ed25519PrivateKey]] | None = None,
        protocol: str = PROTOCOL_1,
        witnesses: Sequence[tuple[str, str, Ed25519PrivateKey]] = (),
        witness_quorum: int | None = None,
    ):
        self.server_key = server_key or generate_key()
        self.protocol = protocol
        self.witness_keys = {wid: key for wid, _, key in witnesses}
        self.cosignatures: list[dict] = []
        self.vote_id = vote_id
        self.opens_at, self.closes_at = opens_at, closes_at
        self.now = opens_at
        self.step = step
        self.key_factory = key_factory
        self.keys: dict[str, list[Ed25519PrivateKey]] = {}
        if roll_keys is not None:
            self.keys = {rid: list(keys) for rid, keys in roll_keys.items()}
        else:
            with_keys = [r.right_id for r in rights] if roll_key_rights is None else roll_key_rights
            for right_id in with_keys:
                self.keys[right_id] = [key_factory()]
        self.roll = build_roll(rights, {rid: [pub(k) for k in ks] for rid, ks in self.keys.items()})
        self.definition = make_definition(
            vote_id=vote_id, community_id=community_id, title=title, kind=kind, matter=matter,
            opens_at=opens_at, closes_at=closes_at, roll=self.roll, server_key=pub(self.server_key),
            candidates=candidates, seats=seats, protocol=protocol,
            witnesses=[{"id": wid, "name": name, "public_key": pub(key)} for wid, name, key in witnesses],
            witness_quorum=witness_quorum if protocol == PROTOCOL_1_1 else None,
        )  # fmt: skip
        self.entries: list[dict] = []
        self.hashes: list[bytes] = []
        self.frontier = Frontier()
        self.append(self.definition)

    # -- appending --

    def tick(self, at: datetime | None = None) -> str:
        """The time of the next entry: `at`, or one step after the previous one."""
        if at is None:
            self.now += self.step
            at = self.now
        return format_time(at)

    def append(self, entry: dict) -> int:
        """Append any entry (honest or not) and return its index."""
        h = leaf_hash(canonical(entry))
        self.entries.append(entry)
        self.hashes.append(h)
        self.frontier.append(h)
        return len(self.entries) - 1

    def receipt(self, index: int, size: int | None = None) -> dict:
        """The receipt for entry index with a signed tree head of the given size (default index + 1)."""
        size = index + 1 if size is None else size
        root = self.frontier.root() if size == len(self.hashes) else root_from_leaf_hashes(self.hashes[:size])
        head = make_tree_head(self.server_key, self.vote_id, size, root, format_time(self.now))
        return make_receipt(self.vote_id, index, self.hashes[index].hex(), head, inclusion_proof(self.hashes, index, size),
                            self.entries[index])

    def bind(self, right_id: str, at: datetime | None = None) -> Ed25519PrivateKey:
        """Register a new device key for right_id; returns the private key."""
        key = self.key_factory()
        self.keys.setdefault(right_id, []).append(key)
        self.append(make_key_binding(self.vote_id, right_id, pub(key), self.tick(at)))
        return key

    def revoke(self, right_id: str, key: Ed25519PrivateKey, at: datetime | None = None) -> int:
        """Revoke a device key of right_id (lost phone)."""
        return self.append(make_key_revocation(self.vote_id, right_id, pub(key), self.tick(at)))

    def cast(self, right_id: str, choice: dict, key: Ed25519PrivateKey | None = None, at: datetime | None = None,
             nonce: str | None = None) -> int:  # fmt: skip
        """A signed ballot for right_id with its (latest) key; returns the entry index."""
        key = key or self.keys[right_id][-1]
        when = self.tick(at)
        ballot = make_ballot(self.vote_id, right_id, choice, when, nonce)
        return self.append(make_ballot_entry(sign_ballot(key, ballot), when))

    def delegate(self, right_id: str, delegate: Ed25519PrivateKey, signer: Ed25519PrivateKey | None = None,
                 at: datetime | None = None, nonce: str | None = None, kind: str = "delegation") -> int:  # fmt: skip
        """[1.1] The owner (signer: default the right's latest key) names `delegate`'s key as proxy; returns the index."""
        signer = signer or self.keys[right_id][-1]
        when = self.tick(at)
        signed = make_delegation(self.vote_id, right_id, pub(delegate), when, nonce, kind)
        return self.append(make_delegation_entry(sign_delegation(signer, signed), when))

    def revoke_delegation(self, right_id: str, delegate: Ed25519PrivateKey, signer: Ed25519PrivateKey | None = None,
                          at: datetime | None = None, nonce: str | None = None) -> int:  # fmt: skip
        """[1.1] The owner takes the proxy of `delegate` back; returns the index."""
        return self.delegate(right_id, delegate, signer, at, nonce, kind=REVOCATION)

    def cosign(self, witness: str, size: int | None = None, root: bytes | str | None = None,
               at: datetime | None = None) -> dict:  # fmt: skip
        """[1.1] Witness `witness` co-signs the head of `size` entries (default: the log as it stands)."""
        size = len(self.hashes) if size is None else size
        if root is None:
            root = self.frontier.root() if size == len(self.hashes) else root_from_leaf_hashes(self.hashes[:size])
        cosignature = make_cosignature(self.witness_keys[witness], self.vote_id, size, root, witness,
                                       format_time(at or self.now))
        self.cosignatures.append(cosignature)
        return cosignature

    def paper(self, right_id: str, choice: dict, at: datetime | None = None, staff: str = "staff-1") -> int:
        """A paper ballot entered by a committee member; returns the entry index."""
        evidence = hashlib.sha256(f"photo of sheet {len(self.entries)}".encode()).hexdigest()
        return self.append(make_paper_ballot(self.vote_id, right_id, choice, evidence, staff, self.tick(at)))

    def close(self, at: datetime | None = None, verify_signatures: bool = False,
              cosigners: Sequence[str] | None = None) -> dict:  # fmt: skip
        """Append the close entry, sign the final tree head and the tally, [1.1] have `cosigners`
        (default: every witness) co-sign the final head; returns the bundle."""
        self.now = at or max(self.now, self.closes_at)
        self.append(make_close(self.vote_id, format_time(self.now)))
        for witness in self.witness_keys if cosigners is None else cosigners:
            self.cosign(witness)
        return self.bundle(verify_signatures)

    def bundle(self, verify_signatures: bool = False) -> dict:
        """The bundle of the log as it stands, with a fresh tree head and tally."""
        when = format_time(max(self.now, self.closes_at))
        head = make_tree_head(self.server_key, self.vote_id, len(self.entries), self.frontier.root(), when)
        result = count_log(self.roll, self.entries, verify_signatures)
        tally = sign_object(self.server_key, tally_body(result, len(self.entries), self.frontier.root().hex()))
        return build_bundle(self.roll, self.entries, head, tally, self.cosignatures)


def simulate_vote(
    n_rights: int = 30,
    n_ballots: int = 40,
    *,
    seed: int = 1,
    kind: str = "resolution",
    matter: str = "ordinary",
    candidates: int = 4,
    seats: int = 2,
    paper: int = 3,
    bindings: int = 2,
    revocations: int = 1,
    receipts: bool = True,
    key_factory=generate_key,
    protocol: str = PROTOCOL_1,
    witnesses: int = 3,
    quorum: int = 2,
    cosign_every: int = 5,
    proxies: int = 2,
) -> tuple[dict, list[dict], VoteBuilder]:
    """An honest closed vote with re-votes, paper ballots, key bindings and a revocation: (bundle, receipts, builder).

    With protocol linli-vote/1.1: `witnesses` witnesses (quorum `quorum`), the first `quorum` of whom
    co-sign the head every `cosign_every` entries and all of whom co-sign the close; the owners of
    `proxies` rights name a delegate who votes for them, one proxy is revoked, and owners override
    their proxies when they vote again."""
    rng = random.Random(seed)
    v11 = protocol == PROTOCOL_1_1
    witness_list = [(f"w{i + 1}", f"见证人{i + 1}", Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"simulated witness {seed} {i}".encode()).digest())) for i in range(witnesses)] if v11 else []
    rights = make_rights([rng.randint(5000, 15000) for _ in range(n_rights)])
    ids = [r.right_id for r in rights]
    cands = [{"id": f"c{i + 1}", "name": f"候选人{i + 1}"} for i in range(candidates)] if kind == "election" else None
    # Some owners register keys only after the roll froze (key_binding); paper voters have none.
    late = set(ids[:bindings])
    paper_only = set(ids[bindings : bindings + paper])
    builder = VoteBuilder(
        rights, kind=kind, matter=matter, candidates=cands, seats=seats if kind == "election" else None,
        roll_key_rights=[rid for rid in ids if rid not in late and rid not in paper_only], key_factory=key_factory,
        protocol=protocol, witnesses=witness_list, witness_quorum=quorum if witness_list else None,
    )  # fmt: skip
    out_receipts: list[dict] = []
    since_cosign = [0]

    def choice() -> dict:
        if kind == "election":
            return {"approve": rng.sample([c["id"] for c in cands], rng.randint(0, seats))}
        return {"option": rng.choice(["approve", "approve", "reject", "abstain"])}

    def issued(index: int) -> None:
        if receipts:
            out_receipts.append(builder.receipt(index))
        since_cosign[0] += 1
        if v11 and since_cosign[0] >= cosign_every:
            since_cosign[0] = 0
            for witness, _, _ in witness_list[:quorum]:
                builder.cosign(witness)

    for rid in sorted(late):
        builder.bind(rid)
    for rid in sorted(paper_only):
        issued(builder.paper(rid, choice()))
    voters = [rid for rid in ids if rid not in paper_only]
    delegates: dict[str, Ed25519PrivateKey] = {}
    if v11:
        for rid in voters[len(voters) - proxies:]:
            delegates[rid] = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"delegate {seed} {rid}".encode()).digest())
            issued(builder.delegate(rid, delegates[rid]))
    revoked_left = revocations
    for n in range(n_ballots):
        first_pass = n < len(voters)
        rid = voters[n % len(voters)] if first_pass else rng.choice(voters)
        if revoked_left and n == len(voters):
            # A lost phone: revoke the key and cast again with a new one.
            revoked_left -= 1
            builder.revoke(rid, builder.keys[rid][-1])
            builder.bind(rid)
        if delegates and n == len(voters) + 1:
            proxied = next(iter(delegates))  # an owner takes the proxy back, then votes again
            issued(builder.revoke_delegation(proxied, delegates.pop(proxied)))
            issued(builder.cast(proxied, choice()))
            continue
        # The proxy votes on the first pass; a later ballot of the owner overrides it.
        key = delegates.get(rid) if first_pass else None
        issued(builder.cast(rid, choice(), key=key))
    return builder.close(), out_receipts, builder


_EXAMPLE_PARTS = [
    PartInput("p1", "3-1-101", 8950, frozenset({"o-zhang"})),
    PartInput("p2", "3-1-102", 9012, frozenset({"o-wang", "o-li"})),  # co-owners: one right
    PartInput("p3", "3-1-201", 8950, frozenset({"o-zhang"})),  # Zhang's second flat: same right
    PartInput("p4", "3-1-202", 10020, frozenset({"o-zhang", "o-sun"})),  # Zhang with his wife: another right
    PartInput("p5", "3-2-101", 12034, frozenset({"o-zhao"})),
    PartInput("p6", "3-2-102", 9876, frozenset({"o-developer"})),  # unsold: all the developer's parts, one right
    PartInput("p7", "3-2-201", 9876, frozenset({"o-developer"})),
    PartInput("p8", "3-2-202", 9876, frozenset({"o-chen"})),
]


def example_vote() -> tuple[dict, dict, dict]:
    """The linli-vote/1 worked example (tests/vectors/linli-vote-1, frozen; the JavaScript fixtures of tests/js
    are built from it), fully deterministic: (bundle, a voter's receipt, the close receipt)."""
    rng = random.Random(2025)
    rights = compute_rights(_EXAMPLE_PARTS)
    rid = {r.owners: r.right_id for r in rights}
    zhang, wang_li = rid[frozenset({"o-zhang"})], rid[frozenset({"o-wang", "o-li"})]
    zhang_sun, zhao = rid[frozenset({"o-zhang", "o-sun"})], rid[frozenset({"o-zhao"})]
    developer, chen = rid[frozenset({"o-developer"})], rid[frozenset({"o-chen"})]
    keys = fast_key_factory(2025)
    zhang_key, wang_key, zhao_key = keys(), keys(), keys()
    builder = VoteBuilder(
        rights,
        vote_id="v-3f9a2c",
        community_id="c-demo",
        title="使用住宅专项维修资金更换3号楼1单元电梯",
        opens_at=datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc),
        closes_at=datetime(2025, 3, 15, 12, 0, tzinfo=timezone.utc),
        server_key=Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"linli example server key").digest()),
        step=timedelta(minutes=47),
        key_factory=keys,
        # Zhang registered one phone for both of his rights before the roll froze.
        roll_keys={zhang: [zhang_key], zhang_sun: [zhang_key], wang_li: [wang_key], zhao: [zhao_key]},
    )

    def nonce() -> str:
        return b64u_nonce(rng)

    builder.bind(chen)  # Chen verified his flat after the roll froze
    builder.cast(zhang, {"option": "approve"}, nonce=nonce())
    builder.cast(wang_li, {"option": "reject"}, nonce=nonce())
    builder.cast(zhao, {"option": "approve"}, nonce=nonce())
    builder.paper(developer, {"option": "abstain"}, staff="staff-7f3a")
    chen_index = builder.cast(chen, {"option": "approve"}, nonce=nonce())
    voter_receipt = builder.receipt(chen_index)
    builder.cast(wang_li, {"option": "approve"}, nonce=nonce())  # a change of mind: this one counts
    builder.revoke(zhao, zhao_key)  # lost phone
    builder.bind(zhao)
    builder.cast(zhao, {"option": "reject"}, nonce=nonce())
    builder.cast(zhang_sun, {"option": "approve"}, key=zhang_key, nonce=nonce())
    bundle = builder.close(at=datetime(2025, 3, 15, 12, 0, 3, tzinfo=timezone.utc), verify_signatures=True)
    close_receipt = builder.receipt(len(builder.entries) - 1)
    return bundle, voter_receipt, close_receipt


def example_vote_1_1() -> tuple[dict, dict, dict]:
    """The worked example of docs/protocol.md §13 (linli-vote/1.1): the linli-vote/1 example's vote with
    three witnesses (quorum 2) and a proxy — Zhang and Sun authorise their daughter, who votes for
    their right. Fully deterministic: (bundle, a voter's receipt, the close receipt)."""
    rng = random.Random(2025)
    rights = compute_rights(_EXAMPLE_PARTS)
    rid = {r.owners: r.right_id for r in rights}
    zhang, wang_li = rid[frozenset({"o-zhang"})], rid[frozenset({"o-wang", "o-li"})]
    zhang_sun, zhao = rid[frozenset({"o-zhang", "o-sun"})], rid[frozenset({"o-zhao"})]
    developer, chen = rid[frozenset({"o-developer"})], rid[frozenset({"o-chen"})]
    keys = fast_key_factory(2025)
    zhang_key, wang_key, zhao_key = keys(), keys(), keys()

    def seeded(label: str) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"linli example {label}".encode()).digest())

    daughter_key = seeded("daughter's key")
    builder = VoteBuilder(
        rights,
        vote_id="v-3f9a2c",
        community_id="c-demo",
        title="使用住宅专项维修资金更换3号楼1单元电梯",
        opens_at=datetime(2025, 3, 1, 0, 0, tzinfo=timezone.utc),
        closes_at=datetime(2025, 3, 15, 12, 0, tzinfo=timezone.utc),
        server_key=seeded("server key"),
        step=timedelta(minutes=47),
        key_factory=keys,
        roll_keys={zhang: [zhang_key], zhang_sun: [zhang_key], wang_li: [wang_key], zhao: [zhao_key]},
        protocol=PROTOCOL_1_1,
        witnesses=[("w-street", "幸福街道办事处", seeded("witness street office")),
                   ("w-rc", "幸福社区居民委员会", seeded("witness residents' committee")),
                   ("w-liu", "业委会委员 刘洋", seeded("witness committee member Liu"))],
        witness_quorum=2,
    )

    def nonce() -> str:
        return b64u_nonce(rng)

    builder.bind(chen)  # Chen verified his flat after the roll froze
    builder.cast(zhang, {"option": "approve"}, nonce=nonce())
    builder.cast(wang_li, {"option": "reject"}, nonce=nonce())
    builder.cast(zhao, {"option": "approve"}, nonce=nonce())
    builder.paper(developer, {"option": "abstain"}, staff="staff-7f3a")
    chen_index = builder.cast(chen, {"option": "approve"}, nonce=nonce())
    voter_receipt = builder.receipt(chen_index)
    # The street office's and the residents' committee's witnesses run every hour from cron.
    for witness in ("w-street", "w-rc"):
        builder.cosign(witness, at=builder.now + timedelta(minutes=13))
    # Zhang and Sun are abroad: Zhang's phone authorises their daughter's key for their joint flat.
    builder.delegate(zhang_sun, daughter_key, signer=zhang_key, nonce=nonce())
    builder.cast(wang_li, {"option": "approve"}, nonce=nonce())  # a change of mind: this one counts
    builder.revoke(zhao, zhao_key)  # lost phone
    builder.bind(zhao)
    builder.cast(zhao, {"option": "reject"}, nonce=nonce())
    builder.cast(zhang_sun, {"option": "approve"}, key=daughter_key, nonce=nonce())  # the proxy votes
    bundle = builder.close(at=datetime(2025, 3, 15, 12, 0, 3, tzinfo=timezone.utc), verify_signatures=True,
                           cosigners=[])
    for witness, minutes in (("w-street", 4), ("w-rc", 9), ("w-liu", 31)):
        builder.cosign(witness, at=builder.now + timedelta(minutes=minutes))
    bundle = builder.bundle(verify_signatures=True)
    close_receipt = builder.receipt(len(builder.entries) - 1)
    return bundle, voter_receipt, close_receipt


def fast_key_factory(seed: int = 7):
    """Deterministic keys from a seeded RNG (reproducible examples; never for real owners)."""
    rng = random.Random(seed)

    def make() -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))

    return make


def b64u_nonce(rng: random.Random) -> str:
    """A reproducible nonce for examples."""
    return b64u_encode(rng.randbytes(16))
