"""Media end to end over HTTP, on both storage backends: upload, read back, who may see what,
refusals that store nothing, 413, 429, the certificate hook of bindings, and media-gc."""
import hashlib
import io
from datetime import timedelta

import pytest
from PIL import Image

from backend.extensions import db
from backend.models import Binding
from backend.models.base import utcnow
from backend.models.media import Media
from backend.models.ratelimit import RateCounter
from backend.services import media as media_service
from backend.storage import LocalStorage, StorageError
from tests.media.support import (  # noqa: F401 — fixtures
    GPS_IFD, image_bytes, jpeg_with_gps, minimal_pdf, png_bomb, s3_server, store, stored_keys, two_colour_jpeg)


def upload(client, user, data, filename="photo.jpg", purpose=None, headers=None):
    form = {"file": (io.BytesIO(data), filename)}
    if purpose:
        form["purpose"] = purpose
    return client.post("/api/v1/media", headers=headers if headers is not None else user["headers"], data=form,
                       content_type="multipart/form-data")


def attach(user_id, media_id, community_id, attached_type="test_object", attached_id=1):
    """Attach as a use case of another domain would (the kind needs a visibility rule to be seen)."""
    from backend.models import User

    media_service.attach(db.session.get(User, user_id), [media_id], community_id, attached_type, attached_id)
    db.session.commit()


@pytest.fixture
def community_rule(monkeypatch):
    """"test_object": visible to anyone with a role in the media's community, registered for one test."""
    from backend.security import require_community

    def rule(user, attached_id):
        row = db.session.execute(db.select(Media).filter_by(attached_type="test_object", attached_id=attached_id)
                                 ).scalars().first()
        require_community(user, row.community_id)
        return True

    monkeypatch.setitem(media_service._visibility, "test_object", rule)
    return rule


def nothing_stored(backend):
    return db.session.execute(db.select(db.func.count(Media.id))).scalar_one() == 0 and stored_keys(backend) == []


# ---------------------------------------------------------------- the happy path on both backends


def test_gps_exif_upload_is_served_without_any_exif(world, client, store):
    user = world.login()
    resp = upload(client, user, jpeg_with_gps(size=(640, 480)))
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert set(body) == {"id", "content_type", "width", "height", "size", "url", "thumbnail_url"}
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 640, 480)
    assert body["url"] == f"/api/v1/media/{body['id']}"
    assert body["thumbnail_url"] == f"/api/v1/media/{body['id']}/thumbnail"

    served = client.get(body["url"], headers=user["headers"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    img = Image.open(io.BytesIO(served.data))
    assert dict(img.getexif()) == {} and dict(img.getexif().get_ifd(GPS_IFD)) == {}
    assert "exif" not in img.info and b"TestCam" not in served.data
    assert len(served.data) == body["size"]
    assert hashlib.sha256(served.data).hexdigest() == media_service.media_sha256(body["id"])
    assert served.headers["ETag"] == f'"{media_service.media_sha256(body["id"])}"'
    again = client.get(body["url"], headers={**user["headers"], "If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and not again.data

    thumb = client.get(body["thumbnail_url"], headers=user["headers"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).size == (360, 270)
    # the stored objects are the re-encoded ones, and only they exist
    row = db.session.get(Media, body["id"])
    assert stored_keys(store) == sorted([row.storage_key, row.thumbnail_key])
    assert store.get(row.storage_key) == served.data

    info = client.get(f"{body['url']}/info", headers=user["headers"])
    assert info.status_code == 200 and info.json == body


def test_rotated_photo_is_served_upright(world, client, store):
    user = world.login()
    resp = upload(client, user, two_colour_jpeg(orientation=6))  # camera held sideways: 400x200 on disk
    assert resp.status_code == 201 and (resp.json["width"], resp.json["height"]) == (200, 400)
    img = Image.open(io.BytesIO(client.get(resp.json["url"], headers=user["headers"]).data)).convert("RGB")
    assert img.size == (200, 400)
    top, bottom = img.getpixel((100, 60)), img.getpixel((100, 340))
    assert top[0] > 200 and top[2] < 60  # the left (red) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_and_webp_keep_their_format(world, client, store):
    user = world.login()
    for fmt, ctype in (("PNG", "image/png"), ("WEBP", "image/webp")):
        resp = upload(client, user, image_bytes(fmt), filename="x.bin")
        assert resp.status_code == 201 and resp.json["content_type"] == ctype
        assert client.get(resp.json["url"], headers=user["headers"]).mimetype == ctype


def test_pdf_accepted_as_a_document(world, client, store):
    user = world.login()
    resp = upload(client, user, minimal_pdf(), filename="quote.pdf", purpose="document")
    assert resp.status_code == 201, resp.json
    assert resp.json["content_type"] == "application/pdf" and resp.json["thumbnail_url"] is None
    assert resp.json["width"] is None
    served = client.get(resp.json["url"], headers=user["headers"])
    assert served.status_code == 200 and served.mimetype == "application/pdf" and served.data == minimal_pdf()
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert client.get(f"{resp.json['url']}/thumbnail", headers=user["headers"]).status_code == 404


def _cache_control(resp):
    return {part.strip() for part in resp.headers["Cache-Control"].split(",")}


def test_served_files_may_be_kept_only_by_the_users_own_client(world, client, store):
    """Permission-checked responses are `private` (a shared cache must never keep them) and never
    `public` — images, thumbnails, PDFs, and the 304 answers to a revalidation."""
    user = world.login()
    photo = upload(client, user, jpeg_with_gps()).json
    pdf = upload(client, user, minimal_pdf(), filename="quote.pdf", purpose="document").json
    for path in (photo["url"], photo["thumbnail_url"], pdf["url"]):
        served = client.get(path, headers=user["headers"])
        assert served.status_code == 200
        assert _cache_control(served) == {"private", "max-age=3600"}, served.headers["Cache-Control"]
        again = client.get(path, headers={**user["headers"], "If-None-Match": served.headers["ETag"]})
        assert again.status_code == 304
        assert _cache_control(again) == {"private", "max-age=3600"}, again.headers["Cache-Control"]


# ---------------------------------------------------------------- refusals store nothing


def test_50_megapixel_png_bomb_refused(world, client, store):
    user = world.login()
    bomb = png_bomb(10_000, 5_000)
    assert len(bomb) < 10_000  # tiny on the wire
    resp = upload(client, user, bomb, filename="bomb.png")
    assert resp.status_code == 422 and resp.json["error"]["code"] == "image_too_large"
    assert "file" in resp.json["error"]["details"]["fields"]
    assert nothing_stored(store)


def test_pdf_renamed_jpg_refused_where_a_photo_is_expected(world, client, store):
    user = world.login()
    resp = upload(client, user, minimal_pdf(), filename="photo.jpg")
    assert resp.status_code == 422 and resp.json["error"]["code"] == "unsupported_file"
    assert resp.json["error"]["details"]["fields"]["file"]
    assert nothing_stored(store)


def test_truncated_image_refused(world, client, store):
    user = world.login()
    data = image_bytes("JPEG", size=(800, 600))
    resp = upload(client, user, data[: len(data) * 2 // 3])
    assert resp.status_code == 422 and resp.json["error"]["code"] == "image_damaged"
    assert nothing_stored(store)


@pytest.mark.parametrize("data,filename,code", [
    (b"MZ\x90\x00 not an image", "photo.jpg", "unsupported_file"),
    (b"%PDF-1.4\nfake", "quote.pdf", "document_damaged"),
    # what the adversarial test sent: a name-escaped JavaScript open action, and a Launch link
    (minimal_pdf(catalog=b"/OpenAction<</S/J#61vaScript/JS(app.alert(1))>>"), "quote.pdf", "document_active_content"),
    (minimal_pdf(extra=b"/Annots[<</Subtype/Link/Rect[0 0 9 9]/A<</S/L#61unch/F(calc.exe)>>>>]"), "quote.pdf",
     "document_active_content"),
])
def test_non_images_and_fake_pdfs_refused(world, client, store, data, filename, code):
    user = world.login()
    resp = upload(client, user, data, filename=filename, purpose="document")
    assert resp.status_code == 422 and resp.json["error"]["code"] == code
    assert nothing_stored(store)


def test_bad_requests_name_the_field(world, client):
    user = world.login()
    resp = client.post("/api/v1/media", headers=user["headers"], data={}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.json["error"]["details"]["fields"]
    resp = upload(client, user, image_bytes("PNG"), purpose="selfie")
    assert resp.status_code == 422 and "purpose" in resp.json["error"]["details"]["fields"]
    resp = upload(client, user, b"")
    assert resp.status_code == 422 and "file" in resp.json["error"]["details"]["fields"]
    resp = client.post("/api/v1/media", headers=user["headers"], data={"file": "not a file part"},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "file" in resp.json["error"]["details"]["fields"]
    resp = client.post("/api/v1/media", headers=user["headers"], json={"file": "x"})
    assert resp.status_code == 422 and "file" in resp.json["error"]["details"]["fields"]
    resp = client.post("/api/v1/media", headers=user["headers"], content_type="multipart/form-data",
                       data={"file": (io.BytesIO(image_bytes("PNG")), "a.png"), "caption": "x"})
    assert resp.status_code == 422 and "caption" in resp.json["error"]["details"]["fields"]


class CountingStream(io.BytesIO):
    """A request body that records how much of it the server read."""

    consumed = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    readline = None  # only read() is used by werkzeug's form parser


def test_oversized_upload_is_413_before_the_body_is_read(world, client, app, monkeypatch):
    user = world.login()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 50_000)
    body = CountingStream(b"x" * 60_000)
    resp = client.post("/api/v1/media", headers=user["headers"], input_stream=body, content_length=60_000,
                       content_type="multipart/form-data; boundary=zzz")
    assert resp.status_code == 413
    assert resp.json["error"]["code"] == "payload_too_large" and resp.json["error"]["message"]
    assert body.consumed == 0
    assert db.session.execute(db.select(db.func.count(Media.id))).scalar_one() == 0


def test_too_many_uploads_per_minute_is_429(world, client, app, monkeypatch, store):
    monkeypatch.setitem(app.config, "MEDIA_UPLOADS_PER_MINUTE", 3)
    user, other = world.login(), world.login()
    codes = [upload(client, user, image_bytes("PNG")).status_code for _ in range(2)]
    codes.append(upload(client, user, b"not an image").status_code)  # refused attempts count too
    resp = upload(client, user, image_bytes("PNG"))
    assert codes == [201, 201, 422] and resp.status_code == 429
    assert resp.json["error"]["code"] == "too_many_uploads" and resp.json["error"]["details"]["limit"] == 3
    assert resp.headers["Retry-After"] == str(max(1, resp.json["error"]["details"]["retry_after"]))
    assert upload(client, other, image_bytes("PNG")).status_code == 201  # per user
    # the counter lives in the database, shared by every worker
    counts = db.session.execute(db.select(RateCounter.key, RateCounter.count)
                                .where(RateCounter.key.startswith("upload:"))).all()
    assert sorted(c for _, c in counts) == [1, 4]
    assert len(stored_keys(store)) == 6  # three accepted images, each with its thumbnail


@pytest.fixture
def small_budget(app):
    """A decode budget of 64 MB that gives up waiting after 0.2 s, installed for one test."""
    previous = app.extensions.get("linli.decode_budget")
    app.extensions["linli.decode_budget"] = budget = media_service.DecodeBudget(64 << 20, wait_seconds=0.2,
                                                                                retry_after=3)
    yield budget
    if previous is None:
        app.extensions.pop("linli.decode_budget", None)
    else:
        app.extensions["linli.decode_budget"] = previous


def test_busy_pipeline_is_503_with_retry_after_and_stores_nothing(world, client, store, small_budget):
    import threading

    user = world.login()
    entered, release = threading.Event(), threading.Event()

    def someone_else_decoding():
        with small_budget.admit("another user", 64 << 20):
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=someone_else_decoding, daemon=True)
    thread.start()
    assert entered.wait(5)
    try:
        resp = upload(client, user, image_bytes("JPEG"))
    finally:
        release.set()
        thread.join(5)
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "3"
    assert resp.json["error"] == {"code": "media_busy", "message": "服务器繁忙，请稍后再试",
                                  "details": {"retry_after": 3, "request_id": resp.json["error"]["details"]["request_id"]}}
    assert nothing_stored(store)
    assert upload(client, user, image_bytes("JPEG")).status_code == 201  # free again
    assert small_budget.used == 0 and small_budget.peak > 0


def test_image_needing_more_than_the_whole_budget_is_refused(world, client, store, small_budget):
    user = world.login()
    resp = upload(client, user, image_bytes("WEBP", size=(3000, 3000)), filename="big.webp")  # ~150 MB to decode
    assert resp.status_code == 422 and resp.json["error"]["code"] == "image_too_large"
    assert resp.json["error"]["details"]["budget_mb"] == 64 and "file" in resp.json["error"]["details"]["fields"]
    assert nothing_stored(store)


def test_pdf_inspection_is_charged_to_the_budget(world, client, store, small_budget, app, monkeypatch):
    """A PDF's child process may take MEDIA_PDF_MEMORY_MB: that much is reserved while it runs."""
    monkeypatch.setitem(app.config, "MEDIA_PDF_MEMORY_MB", 48)
    seen = []
    real = media_service._inspect_pdf

    def watching(data, memory, cpu_seconds):
        seen.append((memory, small_budget.used))
        return real(data, memory, cpu_seconds)

    monkeypatch.setattr(media_service, "_inspect_pdf", watching)
    resp = upload(client, world.login(), minimal_pdf(), filename="q.pdf", purpose="document")
    assert resp.status_code == 201 and seen == [(48 << 20, 48 << 20)] and small_budget.used == 0


def test_unauthenticated_is_401(world, client):
    user = world.login()
    resp = upload(client, user, image_bytes("PNG"), headers={})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "unauthorized"
    mid = upload(client, user, image_bytes("PNG")).json["id"]
    for path in (f"/api/v1/media/{mid}", f"/api/v1/media/{mid}/thumbnail", f"/api/v1/media/{mid}/info"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer forged"}).status_code == 401


def test_storage_failure_leaves_nothing_behind(world, client, app, tmp_path):
    class ThumbnailFails(LocalStorage):
        def put(self, key, data, content_type):
            if key.endswith("-thumb.jpg"):
                raise StorageError("disk full")
            super().put(key, data, content_type)

    broken = ThumbnailFails(str(tmp_path / "broken"))
    previous = app.extensions.get("linli.storage")
    app.extensions["linli.storage"] = broken
    try:
        resp = upload(client, world.login(), image_bytes("JPEG"))
    finally:
        app.extensions["linli.storage"] = previous
    assert resp.status_code == 503 and resp.json["error"]["code"] == "storage_unavailable"
    assert nothing_stored(broken)


# ---------------------------------------------------------------- who may see what


def test_visibility_unattached_then_attached(world, client, store, community_rule):
    cid, other_cid = world.community(), world.community()
    uploader = world.member(cid, "resident")
    neighbour = world.member(cid, "resident")
    stranger = world.member(other_cid, "committee")
    mid = upload(client, uploader, image_bytes("JPEG")).json["id"]
    paths = [f"/api/v1/media/{mid}", f"/api/v1/media/{mid}/thumbnail", f"/api/v1/media/{mid}/info"]
    for path in paths:  # unattached: the uploader only
        assert client.get(path, headers=uploader["headers"]).status_code == 200
        resp = client.get(path, headers=neighbour["headers"])
        assert resp.status_code == 403 and resp.json["error"]["code"] == "media_forbidden"

    attach(uploader["id"], mid, cid)  # the kind's rule: anyone with a role in the community
    for path in paths:
        assert client.get(path, headers=neighbour["headers"]).status_code == 200
        assert client.get(path, headers=stranger["headers"]).status_code == 403  # another community
    assert client.get("/api/v1/media/999999", headers=uploader["headers"]).status_code == 404
    assert client.get("/api/v1/media/999999/thumbnail", headers=uploader["headers"]).status_code == 404


def test_registered_visibility_function_decides(world, client, store, monkeypatch):
    cid = world.community()
    uploader, neighbour = world.member(cid, "resident"), world.member(cid, "resident")
    mid = upload(client, uploader, image_bytes("JPEG")).json["id"]
    monkeypatch.setitem(media_service._visibility, "private_test_object", lambda user, oid: user.id == uploader["id"])
    attach(uploader["id"], mid, cid, "private_test_object", 7)
    assert client.get(f"/api/v1/media/{mid}", headers=uploader["headers"]).status_code == 200
    assert client.get(f"/api/v1/media/{mid}", headers=neighbour["headers"]).status_code == 403


def test_a_kind_without_a_rule_is_seen_by_nobody(world, client, store):
    """Deny by default: media attached to a kind that registered no rule is refused to everyone —
    the uploader, members of its community and platform admins alike."""
    cid = world.community()
    uploader = world.member(cid, "committee")
    neighbour = world.member(cid, "resident")
    mid = upload(client, uploader, image_bytes("JPEG")).json["id"]
    assert "unregistered_kind" not in media_service.registered_kinds()
    attach(uploader["id"], mid, cid, "unregistered_kind", 3)
    for who in (uploader, neighbour, world.platform_admin()):
        for path in (f"/api/v1/media/{mid}", f"/api/v1/media/{mid}/thumbnail", f"/api/v1/media/{mid}/info"):
            resp = client.get(path, headers=who["headers"])
            assert resp.status_code == 403 and resp.json["error"]["code"] == "media_forbidden"


def test_attach_contract(world, client):
    from backend.errors import Invalid
    from backend.models import User

    cid = world.community()
    alice, bob = world.member(cid, "resident"), world.member(cid, "resident")
    photo = upload(client, alice, image_bytes("JPEG")).json["id"]
    pdf = upload(client, alice, minimal_pdf(), purpose="document").json["id"]
    bobs = upload(client, bob, image_bytes("JPEG")).json["id"]
    user = db.session.get(User, alice["id"])

    attached = media_service.attach(user, [photo, photo], cid, "ticket", 5, field="photo_ids")
    db.session.commit()
    assert [m.id for m in attached] == [photo] and attached[0].community_id == cid
    assert attached[0].attached_at is not None
    # re-attaching to the same object is a no-op
    assert [m.id for m in media_service.attach(user, [photo], cid, "ticket", 5)] == [photo]
    assert [m.id for m in media_service.attach(user, [pdf], cid, "notice", 2, allow_pdf=True)] == [pdf]
    db.session.rollback()

    for ids, kwargs, bad in (([photo], {}, [photo]),  # already on ticket 5
                             ([bobs, 424242, 2**40], {}, [bobs, 424242, 2**40]),  # someone else's, unknown
                             ([pdf], {}, [pdf])):  # a PDF where an image is expected
        with pytest.raises(Invalid) as info:
            media_service.attach(user, ids, cid, "ticket", 6, field="photo_ids", **kwargs)
        assert info.value.details["media_ids"] == bad
        assert len(info.value.details["fields"]["photo_ids"]) == len(bad)
        db.session.rollback()
    assert db.session.get(Media, bobs).attached_type is None


# ---------------------------------------------------------------- the property-certificate hook


def test_binding_certificate_is_attached_and_seen_by_reviewers_only(world, client, store):
    cid, phones = world.standard_community()
    other_cid = world.community()
    claimant = world.login()
    committee = world.member(cid, "committee")
    staff = world.member(cid, "property_staff")
    resident = world.member(cid, "resident")
    outsider = world.member(other_cid, "committee")
    mid = upload(client, claimant, jpeg_with_gps()).json["id"]
    resp = client.post(f"/api/v1/communities/{cid}/bindings", headers=claimant["headers"],
                       json={"building": "1", "unit": "1", "room": "101", "name": "张伟", "certificate_media_id": mid})
    assert resp.status_code == 201 and resp.json["status"] == "pending" and resp.json["certificate_media_id"] == mid
    row = db.session.get(Media, mid)
    assert (row.attached_type, row.attached_id, row.community_id) == ("binding_certificate", resp.json["id"], cid)
    for who, status in ((claimant, 200), (committee, 200), (staff, 200), (resident, 403), (outsider, 403)):
        assert client.get(f"/api/v1/media/{mid}", headers=who["headers"]).status_code == status


def test_binding_with_someone_elses_certificate_is_refused_whole(world, client, store):
    cid, _ = world.standard_community()
    claimant, other = world.login(), world.login()
    mid = upload(client, other, image_bytes("JPEG")).json["id"]
    resp = client.post(f"/api/v1/communities/{cid}/bindings", headers=claimant["headers"],
                       json={"building": "1", "unit": "1", "room": "101", "name": "张伟", "certificate_media_id": mid})
    assert resp.status_code == 422 and "certificate_media_id" in resp.json["error"]["details"]["fields"]
    assert db.session.execute(db.select(db.func.count(Binding.id))).scalar_one() == 0
    assert db.session.get(Media, mid).attached_type is None


# ---------------------------------------------------------------- media-gc


def test_gc_removes_old_unattached_uploads_only(world, client, store, community_rule):
    cid = world.community()
    user = world.member(cid, "resident")
    old_loose, old_kept, fresh = (upload(client, user, image_bytes("JPEG")).json["id"] for _ in range(3))
    attach(user["id"], old_kept, cid)
    rows = {mid: db.session.get(Media, mid) for mid in (old_loose, old_kept, fresh)}
    keys = {mid: (m.storage_key, m.thumbnail_key) for mid, m in rows.items()}
    now = rows[fresh].created_at + timedelta(hours=25)
    rows[fresh].created_at = now - timedelta(hours=23)
    db.session.commit()

    assert media_service.collect_garbage(now=now) == 1
    assert db.session.get(Media, old_loose) is None
    assert not any(store.exists(k) for k in keys[old_loose])
    assert all(store.exists(k) for mid in (old_kept, fresh) for k in keys[mid])
    assert client.get(f"/api/v1/media/{old_loose}", headers=user["headers"]).status_code == 404
    assert media_service.collect_garbage(now=now) == 0


def test_gc_command(world, client, app, store):
    user = world.login()
    mid = upload(client, user, image_bytes("PNG")).json["id"]
    row = db.session.get(Media, mid)
    keys = (row.storage_key, row.thumbnail_key)
    row.created_at = utcnow() - timedelta(days=2)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["media-gc"])
    assert result.exit_code == 0 and "removed 1" in result.output
    db.session.expire_all()
    assert db.session.get(Media, mid) is None and not any(store.exists(k) for k in keys)
