"""Photos and attachments: the upload pipeline, who may see what, attaching to objects, clean-up.

Every image is decoded and re-encoded by Pillow (never stored as sent); PDFs are accepted only as
documents and checked to be PDFs. See docs/media.md for the pipeline and its settings.
"""
import hashlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
import warnings
from datetime import timedelta

from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from sqlalchemy.dialects import postgresql, sqlite

from backend.errors import DomainError, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models.base import utcnow
from backend.models.media import Media, MediaUploadCounter
from backend.security import require_community
from backend.storage import StorageError, storage

log = logging.getLogger("linli.media")

PDF = "application/pdf"
# Pillow format → (stored content type, file extension). Anything else is refused.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
PURPOSES = ("photo", "document")
JPEG_QUALITY = 85
WEBP_QUALITY = 85
THUMB_QUALITY = 80
# Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; here a bomb is always an error
# (set once for the process, not per call: warnings.catch_warnings is not thread-safe).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class TooManyUploads(DomainError):
    status = 429


def _storage_unavailable(exc):
    log.error("media storage failed: %s", exc)
    return DomainError("storage_unavailable", "文件存储暂不可用，请稍后再试", status=503)


# ---------------------------------------------------------------- the pipeline (pure functions)


BUSY_MESSAGE = "服务器繁忙，请稍后再试"


class Refused(Exception):
    """A file the pipeline will not store (422), or cannot take now (503 media_busy, with
    details.retry_after seconds); code and Chinese message for the §7 error."""

    def __init__(self, code, message, status=422, **details):
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details


class Sanitised:
    """What the pipeline produced: the bytes to store and what the row records."""

    def __init__(self, content_type, ext, data, width=None, height=None, thumbnail=None):
        self.content_type, self.ext, self.data = content_type, ext, data
        self.width, self.height, self.thumbnail = width, height, thumbnail
        self.sha256 = hashlib.sha256(data).hexdigest()


def sanitise_image(data, max_pixels=40_000_000, max_side=2560, thumb_side=360):
    """Decode an image (JPEG/PNG/WebP, identified by content), apply EXIF orientation, cap its size,
    drop every metadata block and re-encode it; also make the thumbnail. Raises Refused."""
    # Pillow's own bomb guard at the same cap (it raises past 2x, warns past 1x); ours below is exact.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        img = Image.open(io.BytesIO(data), formats=tuple(IMAGE_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused("image_too_large", "图片像素过大", max_pixels=max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Refused("unsupported_file", "只能上传 JPEG、PNG 或 WebP 图片", reason=str(exc)[:200]) from None
    with img:
        fmt = img.format
        width, height = img.size
        # Image.open only read the header: refuse before a single pixel is decoded.
        if width * height > max_pixels or width < 1 or height < 1:
            raise Refused("image_too_large", "图片像素过大", width=width, height=height, max_pixels=max_pixels)
        try:
            out = _decode_and_fit(img, fmt, max_side)
            main = _encode(out, fmt)
            # the thumbnail comes from the already decoded and shrunk image, never from a second decode:
            # an integer box reduce, then a small bicubic step (plenty for 360 px)
            scale = min(1.0, thumb_side / max(out.size))
            thumb = out.resize((max(1, round(out.width * scale)), max(1, round(out.height * scale))),
                               Image.Resampling.BICUBIC, reducing_gap=1.0)
            thumbnail = _encode(_flatten(thumb), "JPEG", quality=THUMB_QUALITY)
        except Image.DecompressionBombError:
            raise Refused("image_too_large", "图片像素过大", max_pixels=max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError, ZeroDivisionError) as exc:
            # LOAD_TRUNCATED_IMAGES stays False: a cut-off upload is an error, not a grey stripe.
            raise Refused("image_damaged", "图片已损坏或不完整，请重新上传", reason=str(exc)[:200]) from None
    content_type, ext = IMAGE_FORMATS[fmt]
    return Sanitised(content_type, ext, main, out.width, out.height, thumbnail)


def _orientation(img):
    """The EXIF orientation, 1 when absent or unreadable (broken EXIF must not cost a good photo)."""
    try:
        value = img.getexif().get(ImageOps.ExifTags.Base.Orientation, 1)
        return value if isinstance(value, int) else 1
    except Exception:  # noqa: BLE001 — any parse failure of the EXIF block means "no orientation"
        return 1


TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
             5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}


def _decode_and_fit(img, fmt, max_side):
    """Decode (JPEG at a reduced DCT scale when that still leaves ≥ max_side), shrink, convert to sRGB
    and a savable mode, then turn upright. Only the first frame of an animation is decoded.
    The result carries no metadata at all."""
    width, height = img.size
    orientation = _orientation(img)
    icc = img.info.get("icc_profile")
    if fmt == "JPEG" and max(width, height) >= 2 * max_side:
        # libjpeg scales by 1/2, 1/4, 1/8 while decoding; draft never goes below the requested size
        scale = max_side / max(width, height)
        img.draft(img.mode, (max(1, int(width * scale + 1)), max(1, int(height * scale + 1))))
    img.load()
    out = img
    if out.mode in ("1", "P", "PA"):
        out = _savable(out, fmt)  # palette images only resize with NEAREST: expand them first
    if max(out.size) > max_side:
        # the long side does not change under rotation, so shrink first and rotate the smaller image;
        # BOX is area averaging (OpenCV's INTER_AREA): sharp, no ringing, and the fastest proper filter
        scale = max_side / max(out.size)
        out = out.resize((max(1, round(out.width * scale)), max(1, round(out.height * scale))), Image.Resampling.BOX)
    out = _savable(_to_srgb(out, icc), fmt)
    if orientation in TRANSPOSE:
        out = out.transpose(TRANSPOSE[orientation])
    if out is img:
        out = img.copy()
    out.info = {}  # no EXIF, XMP, ICC, text chunks, comments: nothing rides along to the encoder
    return out


def _to_srgb(img, icc):
    """Convert from the embedded ICC profile to sRGB, so that dropping the profile keeps the colours."""
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode != "CMYK" and "sRGB" in (ImageCms.getProfileDescription(src) or ""):
            return img  # already sRGB (most Android photos): nothing to convert
        mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # a broken profile is dropped; the pixels are kept as they are


def _savable(img, fmt):
    """A mode the output format stores: JPEG → RGB or L; PNG → RGB(A) or L(A); WebP → RGB(A)."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        img, mode = img.point(lambda v: v / 256).convert("L"), "L"  # 16-bit grey: scaled to 8 bits, not clipped
    alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in img.info
    grey = mode in ("1", "L", "LA", "La")
    if fmt == "JPEG":
        target = "L" if grey else "RGB"
    elif grey and fmt == "PNG":
        target = "LA" if alpha else "L"
    else:
        target = "RGBA" if alpha else "RGB"
    return img if mode == target else img.convert(target)


def _flatten(img):
    """Thumbnails are JPEG: alpha is composed onto white."""
    if img.mode in ("RGB", "L"):
        return img
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _encode(img, fmt, quality=None):
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=quality or JPEG_QUALITY)
    elif fmt == "PNG":
        img.save(buf, "PNG", compress_level=6)
    else:
        img.save(buf, "WEBP", quality=quality or WEBP_QUALITY, method=4)
    return buf.getvalue()


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
PDF_INSPECTOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "media_pdf.py")
PDF_REFUSALS = {
    "document_damaged": "PDF 文件不完整或已损坏",
    "document_encrypted": "PDF 文件已加密，请上传未加密的文件",
    "document_active_content": "PDF 含有脚本、自动操作或嵌入文件，不能上传",
    "document_too_complex": "PDF 文件结构过于复杂，无法检查，请另存为普通 PDF 后再上传",
}


def check_pdf(data, memory=256 << 20, cpu_seconds=10):
    """Accept only a well-formed, unencrypted PDF without active content (docs/media.md "PDFs").
    A quick look at the header and trailer first; then qpdf parses it and every object is walked in a
    child process limited to `memory` bytes and `cpu_seconds` (backend/services/media_pdf.py).
    Raises Refused; returns Sanitised (PDFs are stored as sent)."""
    if not data.startswith(b"%PDF-1.") and not data.startswith(b"%PDF-2."):
        raise Refused("unsupported_file", "文件不是有效的 PDF")
    match = _STARTXREF.search(data[-1024:])
    if match is None:
        raise Refused("document_damaged", PDF_REFUSALS["document_damaged"])
    offset = int(match.group(1))
    target = data[offset:offset + 64] if 0 < offset < len(data) else b""
    # the xref pointer must land on a classic xref table or an xref stream object ("12 0 obj")
    if not (target.startswith(b"xref") or re.match(rb"\d+\s+\d+\s+obj", target)):
        raise Refused("document_damaged", PDF_REFUSALS["document_damaged"])
    verdict = _inspect_pdf(data, memory, cpu_seconds)
    if not verdict.get("ok"):
        code = verdict.get("code") if verdict.get("code") in PDF_REFUSALS else "document_damaged"
        raise Refused(code, PDF_REFUSALS[code], found=str(verdict.get("found", ""))[:200])
    return Sanitised(PDF, "pdf", data)


def _inspect_pdf(data, memory, cpu_seconds):
    """Run media_pdf.py on `data` in a child process; its JSON verdict. A child that is killed (memory,
    CPU time) or overruns its wall time is a "too complex" verdict; one that cannot start is a 503."""
    command = [sys.executable, "-I", PDF_INSPECTOR, str(memory), str(cpu_seconds)]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=2 * cpu_seconds + 5, check=False)
    except subprocess.TimeoutExpired:
        return {"ok": False, "code": "document_too_complex", "found": "time limit"}
    except OSError as exc:
        log.error("cannot start the PDF inspector: %s", exc)
        raise Refused("media_busy", BUSY_MESSAGE, status=503, retry_after=30) from None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == 0 and lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    log.warning("PDF inspector ended with %s: %s", done.returncode, done.stderr.decode("utf-8", "replace")[-500:])
    return {"ok": False, "code": "document_too_complex", "found": f"inspector ended with {done.returncode}"}


def sanitise(data, purpose="photo", max_pixels=40_000_000, max_side=2560, thumb_side=360,
             pdf_memory=256 << 20, pdf_cpu_seconds=10):
    """Route by content, never by file name or the client's content type: PDFs only as documents."""
    # readers accept a PDF header anywhere in the first 1024 bytes, so that is what counts as "a PDF"
    if b"%PDF-" in data[:1024]:
        if purpose != "document":
            raise Refused("unsupported_file", "此处只能上传图片（JPEG、PNG 或 WebP）")
        return check_pdf(data, pdf_memory, pdf_cpu_seconds)
    return sanitise_image(data, max_pixels, max_side, thumb_side)


# ---------------------------------------------------------------- use cases


def upload(user, data, purpose="photo", now=None):
    """Sanitise one uploaded file, store it (and its thumbnail) and record it, unattached."""
    if purpose not in PURPOSES:
        raise Invalid({"purpose": ["须为 photo 或 document"]})
    now = now or utcnow()
    _count_upload(user, now)
    if not data:
        raise Invalid({"file": ["文件为空"]})
    cfg = current_app.config
    try:
        result = sanitise(data, purpose, cfg["MEDIA_MAX_PIXELS"], cfg["MEDIA_MAX_SIDE"], cfg["MEDIA_THUMB_SIDE"],
                          cfg["MEDIA_PDF_MEMORY_MB"] << 20, cfg["MEDIA_PDF_CPU_SECONDS"])
    except Refused as exc:
        fields = {"fields": {"file": [exc.message]}} if exc.status == 422 else {}
        raise DomainError(exc.code, exc.message, status=exc.status, details={**fields, **exc.details}) from None
    stem = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    media = Media(uploader_id=user.id, content_type=result.content_type, width=result.width,
                  height=result.height, size=len(result.data), sha256=result.sha256,
                  storage_key=f"{stem}.{result.ext}", thumbnail_key=f"{stem}-thumb.jpg" if result.thumbnail else None,
                  created_at=now)
    store = storage()
    written = []
    try:
        store.put(media.storage_key, result.data, result.content_type)
        written.append(media.storage_key)
        if result.thumbnail:
            store.put(media.thumbnail_key, result.thumbnail, "image/jpeg")
            written.append(media.thumbnail_key)
        db.session.add(media)
        db.session.commit()
    except BaseException as exc:
        db.session.rollback()
        for key in written:  # nothing stored on failure: no row, no object
            _delete_quietly(store, key)
        if isinstance(exc, StorageError):
            raise _storage_unavailable(exc) from exc
        raise
    return media


def _count_upload(user, now):
    """Count this attempt in the user's minute window (in its own short transaction, so that refused
    files count too); 429 past MEDIA_UPLOADS_PER_MINUTE."""
    limit = current_app.config["MEDIA_UPLOADS_PER_MINUTE"]
    window = now.replace(second=0, microsecond=0)
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = MediaUploadCounter.__table__
    stmt = (insert(table).values(user_id=user.id, window_start=window, count=1)
            .on_conflict_do_update(index_elements=["user_id", "window_start"], set_={"count": table.c.count + 1})
            .returning(table.c.count))
    count = db.session.execute(stmt).scalar_one()
    db.session.commit()
    if count > limit:
        raise TooManyUploads("too_many_uploads", "上传过于频繁，请稍后再试",
                             details={"limit_per_minute": limit, "retry_after": 60 - now.second})


def _delete_quietly(store, key):
    try:
        store.delete(key)
    except Exception:  # noqa: BLE001 — the orphan is logged; the original error matters more
        log.exception("could not delete stored object %s", key)


def get_media(user, media_id):
    """The media row, if the caller may see it (403 otherwise, 404 for unknown ids)."""
    media = db.session.get(Media, media_id)
    if media is None:
        raise NotFound("media_not_found", "文件不存在")
    check_visible(user, media)
    return media


def read_media(user, media_id, thumbnail=False):
    """(media, bytes, content type) of the file or its thumbnail, for those allowed to see it."""
    media = get_media(user, media_id)
    if thumbnail and not media.thumbnail_key:
        raise NotFound("thumbnail_not_found", "该文件没有缩略图")
    try:
        if thumbnail:
            return media, storage().get(media.thumbnail_key), "image/jpeg"
        return media, storage().get(media.storage_key), media.content_type
    except StorageError as exc:
        raise _storage_unavailable(exc) from exc


# ---------------------------------------------------------------- visibility


_visibility = {}


def register_visibility(attached_type, fn):
    """fn(user, attached_id) -> bool decides who may see media attached to that kind of object.
    Every kind that `attach` is called with must have one: a kind without a rule is seen by nobody."""
    _visibility[attached_type] = fn


def visible_to_community_of(model):
    """A rule for objects that anyone with a role in their community may read (published disclosure
    versions, emergency fund records): fn(user, attached_id) loads `model` by id and checks the
    caller's roles in the row's own community."""

    def rule(user, attached_id):
        row = db.session.get(model, attached_id)
        if row is None:
            return False
        require_community(user, row.community_id)
        return True

    rule.__qualname__ = f"visible_to_community_of({model.__name__})"
    return rule


def registered_kinds():
    """The attached types that have a visibility rule (for the app's self-check and the tests)."""
    return frozenset(_visibility)


def can_see(user, media):
    """Unattached: the uploader only. Attached: the rule registered for its kind; a kind without a
    rule is denied to everyone (deny by default: a new kind must say who may see it)."""
    if media.attached_type is None:
        return media.uploader_id == user.id
    fn = _visibility.get(media.attached_type)
    if fn is None:
        log.error("no visibility rule for media kind %r (media %s): denied", media.attached_type, media.id)
        return False
    try:
        return bool(fn(user, media.attached_id))
    except (Forbidden, NotFound):
        return False


def check_visible(user, media):
    """Raise 403 unless the user may see this media."""
    if not can_see(user, media):
        raise Forbidden("media_forbidden", "您无权查看该文件")


# ---------------------------------------------------------------- attaching (used by other domains)


def attach(user, media_ids, community_id, attached_type, attached_id, allow_pdf=False, field="media_ids"):
    """Bind uploaded media to an object; each must be the user's own, unattached (or already on this
    object) and an image (or a PDF when allow_pdf). Raises Invalid naming the bad ids under `field`.
    Adds to the session; the caller's use case commits."""
    ids = list(dict.fromkeys(media_ids or []))
    if not ids:
        return []
    # ids that cannot be a row (not an int, or past the INTEGER column) are simply not found: PostgreSQL
    # would otherwise fail the whole query with an out-of-range error
    queryable = [i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31]
    rows = {m.id: m for m in db.session.execute(
        db.select(Media).where(Media.id.in_(queryable)).with_for_update()).scalars()}
    problems = {mid: _problem(rows.get(mid), mid, user, (attached_type, attached_id, community_id), allow_pdf)
                for mid in ids}
    bad = [mid for mid, problem in problems.items() if problem]
    if bad:
        raise Invalid({field: [problems[mid] for mid in bad]}, details={"media_ids": bad})
    now = utcnow()
    for mid in ids:
        media = rows[mid]
        if media.attached_type is None:
            media.community_id, media.attached_type, media.attached_id, media.attached_at = (
                community_id, attached_type, attached_id, now)
    return [rows[mid] for mid in ids]


def _problem(media, mid, user, target, allow_pdf):
    """Why this media cannot be attached to target (attached_type, attached_id, community_id), or None."""
    if media is None or media.uploader_id != user.id:
        # someone else's upload is reported like a missing one: ids are not a way to probe
        return f"文件 {mid} 不存在或不是您上传的"
    if media.attached_type is not None and (media.attached_type, media.attached_id, media.community_id) != target:
        return f"文件 {mid} 已被其他内容使用"
    if not media.is_image and not (allow_pdf and media.content_type == PDF):
        return f"文件 {mid} 不是图片或 PDF" if allow_pdf else f"文件 {mid} 不是图片"
    return None


def attached_to(attached_type, attached_id):
    """The media attached to one object, in upload order (for the owning domain's responses)."""
    return db.session.execute(
        db.select(Media).filter_by(attached_type=attached_type, attached_id=attached_id).order_by(Media.id)
    ).scalars().all()


def media_sha256(media_id):
    """The hex SHA-256 of the stored bytes (the paper-ballot evidence hash of linli-vote/1)."""
    media = db.session.get(Media, media_id)
    if media is None:
        raise NotFound("media_not_found", "文件不存在")
    return media.sha256


# ---------------------------------------------------------------- clean-up


def collect_garbage(now=None, max_age=timedelta(days=1)):
    """Delete unattached uploads older than max_age, row first (so a concurrent attach wins), then
    their stored objects; also old rate counters. Returns the number of media removed."""
    now = now or utcnow()
    cutoff = now - max_age
    candidates = db.session.execute(
        db.select(Media.id, Media.storage_key, Media.thumbnail_key)
        .where(Media.attached_at.is_(None), Media.created_at < cutoff)
        .order_by(Media.id)
    ).all()
    store = storage()
    removed = 0
    for mid, key, thumb in candidates:
        # the WHERE repeats the condition: an attach committed meanwhile keeps its media
        deleted = db.session.execute(
            db.delete(Media).where(Media.id == mid, Media.attached_at.is_(None))
        ).rowcount
        db.session.commit()
        if deleted:
            removed += 1
            for k in (key, thumb):
                if k:
                    _delete_quietly(store, k)
    db.session.execute(db.delete(MediaUploadCounter).where(MediaUploadCounter.window_start < now - timedelta(hours=1)))
    db.session.commit()
    return removed
