"""The demo content goes through the same use cases and validation as the API, once."""
from backend.extensions import db
from backend.models import Community, OutboxMessage
from backend.models.disclosure import DISCLOSURE_KINDS, PublishedVersion
from backend.models.notice import Notice
from backend.services import demo, publications_demo


def test_demo_publishes_everything_once(client):
    lines = demo.load_demo()
    community = db.session.execute(db.select(Community).filter_by(name=demo.DEMO_NAME)).scalar_one()
    assert sum("disclosure" in line for line in lines) == 5 and any("revenue statement" in line for line in lines)
    kinds = db.session.execute(db.select(PublishedVersion.kind).filter_by(community_id=community.id)).scalars().all()
    assert sorted(kinds) == sorted(DISCLOSURE_KINDS + ("revenue_statement",))
    split = db.session.execute(db.select(PublishedVersion).filter_by(kind="utility_apportionment")).scalar_one()
    assert sum(s["amount_fen"] for s in split.content["shares"]) == split.content["total_fen"]
    assert publications_demo.load(community.id, demo.OPENIDS["clerk"], demo.OPENIDS["committee"]) == []
    # two notices of the publications, and the result notice of the closed demo vote
    assert len(db.session.execute(db.select(Notice)).scalars().all()) == 3
    assert db.session.execute(db.select(OutboxMessage).filter_by(event="notice_published")).first() is None
