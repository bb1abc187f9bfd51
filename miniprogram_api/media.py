"""Photos and attachments: upload one file per request (as wx.uploadFile sends it), read it back."""
import io

import marshmallow as ma
from flask import send_file
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from backend.security import current_user
from backend.services import media as service
from miniprogram_api.common import BEARER, Schema


class MultipartParser(FlaskParser):
    """location="files" sees the whole multipart body: the file and the form fields that wx.uploadFile
    sends beside it, so that one schema parses (and the OpenAPI spec documents) them together; unknown
    fields are refused like everywhere else (webargs would silently drop them for files)."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "files": None}

    def load_files(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = MultipartBlueprint("media", __name__, url_prefix="/api/v1", description="Photos and attachments")


@blp.before_request
def _authenticate():
    # 401 before the body is read or parsed: anonymous clients never make the server take in a file
    current_user()


def _is_file(value):
    if not isinstance(value, FileStorage):
        raise ma.ValidationError("须以文件方式上传（multipart 文件字段）")


class UploadArgs(Schema):
    file = Upload(required=True, validate=_is_file,
                  metadata={"description": "JPEG, PNG or WebP; a PDF when purpose=document"})
    purpose = ma.fields.String(load_default="photo", validate=ma.validate.OneOf(service.PURPOSES),
                               metadata={"description": "photo (images only, default) or document (images or PDF)"})


class MediaSchema(ma.Schema):
    """What other resources nest to show their photos and attachments."""

    id = ma.fields.Integer(required=True)
    content_type = ma.fields.String(required=True)
    width = ma.fields.Integer(allow_none=True, metadata={"description": "pixels, after re-encoding; null for PDFs"})
    height = ma.fields.Integer(allow_none=True)
    size = ma.fields.Integer(required=True, metadata={"description": "bytes stored"})
    url = ma.fields.Function(lambda m: f"/api/v1/media/{m.id}", metadata={"type": "string"})
    thumbnail_url = ma.fields.Function(lambda m: f"/api/v1/media/{m.id}/thumbnail" if m.thumbnail_key else None,
                                       allow_none=True, metadata={"type": "string", "description": "null for PDFs"})


FILE_RESPONSE = {"200": {"description": "the stored bytes", "content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
    "image/webp": {"schema": {"type": "string", "format": "binary"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@blp.route("/media", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(UploadArgs, location="files")
@blp.response(201, MediaSchema)
def upload(args):
    """Upload one photo (or a PDF with purpose=document); it is re-encoded, stripped of metadata and
    kept unattached (visible to the uploader only) until a ticket, notice, vote… references it."""
    return service.upload(current_user(), args["file"].read(), purpose=args["purpose"])


@blp.route("/media/<int:mid>/info", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, MediaSchema)
def info(mid):
    """The media's description (same rules as the file itself)."""
    return service.get_media(current_user(), mid)


def _file(mid, thumbnail):
    media, data, content_type = service.read_media(current_user(), mid, thumbnail=thumbnail)
    name = media.thumbnail_key if thumbnail else media.storage_key  # "2026/11/<hex>[-thumb].<ext>"
    response = send_file(io.BytesIO(data), mimetype=content_type, conditional=True, max_age=3600,
                         etag=media.sha256 + ("-thumb" if thumbnail else ""),
                         download_name=name.rsplit("/", 1)[-1],
                         as_attachment=content_type == "application/pdf")
    # per-user access: only the user's own client may keep it, never a shared cache (send_file's max_age
    # also marks the response public, which would contradict `private`: that is removed)
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@blp.route("/media/<int:mid>", methods=["GET"])
@blp.doc(security=BEARER, responses=FILE_RESPONSE)
def download(mid):
    """The stored file, to the uploader while unattached, then to whoever may see its object."""
    return _file(mid, thumbnail=False)


@blp.route("/media/<int:mid>/thumbnail", methods=["GET"])
@blp.doc(security=BEARER, responses=FILE_RESPONSE)
def thumbnail(mid):
    """A JPEG of at most 360 px on the long side (images only; 404 for PDFs)."""
    return _file(mid, thumbnail=True)
