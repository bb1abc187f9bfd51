"""The demo community for the development run (`flask --app wsgi demo`)."""
import csv
import io
import random
from datetime import timedelta

from PIL import Image

from backend.extensions import db
from backend.models import Community, Membership, Vote
from backend.models.base import utcnow
from backend.security import encrypt_pii, issue_token, pii_hash
from backend.services import bindings, identity, media, publications_demo, registry, tickets, votes
from backend.services import keys as key_service
from backend.services.votes.log import roll as vote_roll
from voting.entries import make_ballot, sign_ballot
from voting.keys import generate_key, public_key_b64u

DEMO_NAME = "阳光花园"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文军海燕红梅春兰"
OPENIDS = {
    "admin": "dev-admin",
    "committee": "dev-committee",
    "clerk": "dev-clerk",
    "regulator": "dev-regulator",
    "owner": "dev-owner",
}
OWNER_PHONE = "13800000001"


def id_number(rng, birth_year):
    """A random ID-card number with a valid GB 11643 check digit."""
    body = f"110105{birth_year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + registry.id_check_digit(body)


def demo_registry_rows(seed=278):
    """About 200 parts in four buildings: unsold developer flats, co-owners, one owner of two flats."""
    rng = random.Random(seed)
    rows = []
    for building, floors, units, doors in ((1, 11, 2, 3), (2, 11, 2, 3), (3, 6, 2, 2), (5, 6, 2, 4)):
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in range(1, doors + 1):
                    room = f"{floor}{door:02d}"
                    area = rng.choice(["89.52", "95.30", "112.87", "128.40", "143.16", "76.05"])
                    if rng.random() < 0.08:
                        rows.append([building, unit, room, area, "阳光置业有限公司", "", "", "developer"])
                        continue
                    owners = 2 if rng.random() < 0.2 else 1
                    for _ in range(owners):
                        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", rng.choice(GIVEN)])
                        phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
                        rows.append([building, unit, room, area, name, phone,
                                     id_number(rng, rng.randint(1950, 2000)), "person"])
    # The demo owner (dev-owner logs in as her): two flats in building 3.
    for room in ("101", "102"):
        rows = [r for r in rows if not (r[0] == 3 and r[1] == 1 and r[2] == room)]
        rows.append([3, 1, room, "95.30", "林晓梅", OWNER_PHONE, "110105198001010016", "person"])
    return registry.registry_csv(rows)


def _png(colour):
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(buf, "PNG")
    return buf.getvalue()


def _neighbours(community_id, count):
    """Demo users verified (phone + name) as owners of the first `count` flats of building 1 whose
    single owner has a phone: the voters of the closed demo vote."""
    rows = list(csv.DictReader(io.StringIO(demo_registry_rows().decode())))
    by_flat = {}
    for row in rows:
        by_flat.setdefault((row["building"], row["unit"], row["room"]), []).append(row)
    chosen = [owners[0] for (building, _, _), owners in sorted(by_flat.items())
              if building == "1" and len(owners) == 1 and owners[0]["owner_phone"]][:count]
    users = []
    for i, row in enumerate(chosen, start=1):
        user = identity.named_user(f"dev-neighbour-{i}")
        user.phone_enc, user.phone_hash, user.phone_verified_at = (encrypt_pii(row["owner_phone"]),
                                                                   pii_hash(row["owner_phone"]), utcnow())
        db.session.commit()
        binding = bindings.request_binding(user, community_id, row["building"], row["unit"], row["room"],
                                           row["owner_name"])
        assert binding.status == "verified", binding.reason
        users.append(user)
    return users


def _closed_vote(community_id):
    """A vote that ran last week and is closed and tallied: signed ballots of four neighbours (one
    voted twice — the later ballot counts), a paper ballot entered by the committee, the close entry
    and the signed tally. The device keys are made here and thrown away: nobody can cast with them."""
    committee = identity.named_user(OPENIDS["committee"])
    neighbours = _neighbours(community_id, 4)
    keys = {}
    for user in neighbours:
        keys[user.id] = generate_key()
        key_service.register_key(user, public_key_b64u(keys[user.id]))
    start = utcnow().replace(microsecond=0) - timedelta(days=10)
    draft = votes.create_vote(
        committee, community_id, now=start - timedelta(hours=1), title="续聘物业服务企业（2027–2029 年）",
        kind="resolution", matter="ordinary", opens_at=start, closes_at=start + timedelta(days=7), scope=None,
        description="业委会提议续聘现物业服务企业三年，服务标准与收费标准不变。")
    opened = votes.open_vote(committee, draft["id"], now=start)
    vote_id = opened["vote_id"]
    sessions = {user.id: issue_token(user)[1].id for user in neighbours}
    db.session.commit()
    rights = {user.id: votes.my_rights(user, draft["id"])[0]["right_id"] for user in neighbours}

    def cast(user, option, at):
        ballot = make_ballot(vote_id, rights[user.id], {"option": option}, at)
        [receipt] = votes.cast_ballots(draft["id"], [(sessions[user.id], sign_ballot(keys[user.id], ballot))], now=at)
        assert not isinstance(receipt, Exception), receipt

    for i, (user, option) in enumerate(zip(neighbours, ("approve", "approve", "reject", "approve"))):
        cast(user, option, start + timedelta(hours=3 + i))
    cast(neighbours[2], "approve", start + timedelta(days=2))  # a re-vote: the later ballot counts
    voted = set(rights.values())
    unvoted = next(r["right_id"] for r in vote_roll(db.session.get(Vote, draft["id"])) if r["right_id"] not in voted)
    photo = media.upload(committee, _png((235, 235, 225)), now=start + timedelta(days=3))
    votes.enter_paper_ballot(committee, draft["id"], unvoted, {"option": "approve"}, photo.id,
                             now=start + timedelta(days=3))
    votes.close_vote(committee, draft["id"], now=start + timedelta(days=7, minutes=5))
    return draft["id"]


def _demo_vote_and_tickets(community_id, owner):
    """An open maintenance-fund vote of the whole community and a few tickets at different stages."""
    committee, clerk = identity.named_user(OPENIDS["committee"]), identity.named_user(OPENIDS["clerk"])
    now = utcnow().replace(microsecond=0)
    draft = votes.create_vote(
        committee, community_id, title="小区监控与门禁系统更新（使用专项维修资金）", kind="resolution",
        matter="ordinary", description="现有监控设备已使用 12 年，拟使用住宅专项维修资金整体更新。", opens_at=now,
        closes_at=now + timedelta(days=14), scope=None,
        fund={"amount_fen": 38_600_000, "purpose": "更新全部监控摄像头、门禁主机及存储设备"})
    votes.open_vote(committee, draft["id"])
    lift = tickets.file_ticket(owner, community_id, "repair", "elevator", "3 号楼 1 单元电梯按钮失灵",
                               location="3 号楼 1 单元电梯")
    tickets.transition(clerk, lift.id, "accepted")
    tickets.transition(clerk, lift.id, "in_progress")
    tickets.transition(clerk, lift.id, "resolved", comment="已更换按钮面板，请试用")
    tickets.file_ticket(owner, community_id, "complaint", "fire_lane", "消防通道被私家车长期占用",
                        location="3 号楼北侧消防通道")
    tickets.file_ticket(owner, community_id, "suggestion", "greenery", "建议在儿童游乐区增加遮阳树",
                        location="中心花园")
    return ["  an open maintenance-fund vote (the whole community) and three tickets"]


def closed_vote_id():
    """The closed demo vote (for the bundle the demo command writes), or None before the demo is loaded."""
    community = db.session.execute(db.select(Community).filter_by(name=DEMO_NAME)).scalar_one_or_none()
    if community is None:
        return None
    return db.session.execute(db.select(Vote.id).filter_by(community_id=community.id).where(Vote.state.in_(("closed", "tallied")))
                              .order_by(Vote.id).limit(1)).scalar()


def load_demo():
    """Create the demo community once; returns lines describing how to log in."""
    admin = identity.make_platform_admin(OPENIDS["admin"])
    community = db.session.execute(db.select(Community).filter_by(name=DEMO_NAME)).scalar_one_or_none()
    if community is None:
        community = Community(name=DEMO_NAME, district="北京市朝阳区", address="朝阳区幸福路 278 号")
        db.session.add(community)
        db.session.flush()
        for role, openid in (("committee", OPENIDS["committee"]), ("property_staff", OPENIDS["clerk"]),
                             ("regulator", OPENIDS["regulator"])):
            db.session.add(Membership(user_id=identity.named_user(openid).id, community_id=community.id, role=role,
                                      created_by=admin.id))
        db.session.commit()
        registry.import_registry(admin, community.id, "demo.csv", demo_registry_rows())
        owner = identity.named_user(OPENIDS["owner"])
        owner.phone_enc, owner.phone_hash, owner.phone_verified_at = encrypt_pii(OWNER_PHONE), pii_hash(OWNER_PHONE), utcnow()
        db.session.commit()
        for room in ("101", "102"):
            bindings.request_binding(owner, community.id, "3", "1", room, "林晓梅")
        published = publications_demo.load(community.id, OPENIDS["clerk"], OPENIDS["committee"])
        _closed_vote(community.id)
        published += ["  a closed and tallied vote: four neighbours' signed ballots, a re-vote, a paper ballot"]
        published += _demo_vote_and_tickets(community.id, owner)
    else:
        published = []
    lines = [f"demo community: {community.name} (id {community.id})"] + published
    lines += [f"  {role:10s} openid {openid:14s} → log in with code 'code-{openid}'" for role, openid in OPENIDS.items()]
    lines.append("  (the built-in fake WeChat takes login codes 'code-<openid>', phone codes 'phone-<number>')")
    return lines
