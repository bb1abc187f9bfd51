"""The owner registry: import from CSV/XLSX, list parts."""
import marshmallow as ma
from flask import Response
from flask_smorest.fields import Upload

from backend.security import decrypt_pii, mask_phone
from backend.security import current_user
from backend.services import registry as service
from miniprogram_api.common import BEARER, Derived, PageArgs, Schema, blueprint, page_schema

blp = blueprint("registry", "The owner registry (committee)")


class RegistryUpload(Schema):
    file = Upload(required=True, metadata={"description": ".csv or .xlsx; columns " + ", ".join(service.COLUMNS)})


class RowError(ma.Schema):
    row = ma.fields.Integer(required=True)
    field = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class RegistryImportArgs(Schema):
    preview = ma.fields.Boolean(load_default=False, metadata={
        "description": "validate and report what would be added, changed and removed, without importing"})


class PreviewPart(ma.Schema):
    label = ma.fields.String(required=True, metadata={"description": "building-unit-room"})
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m² (after the import)"})
    old_area = ma.fields.Integer(metadata={"description": "changed parts: the area before"})
    owners = ma.fields.List(ma.fields.String(), metadata={"description": "owners' names (after the import)"})
    old_owners = ma.fields.List(ma.fields.String(), metadata={"description": "changed parts: the owners before"})


class ImportPreview(ma.Schema):
    added = ma.fields.List(ma.fields.Nested(PreviewPart), required=True)
    changed = ma.fields.List(ma.fields.Nested(PreviewPart), required=True)
    removed = ma.fields.List(ma.fields.Nested(PreviewPart), required=True)


class ImportReport(ma.Schema):
    import_id = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "null for a preview"})
    rows = ma.fields.Integer(required=True)
    parts = ma.fields.Integer(required=True)
    owners = ma.fields.Integer(required=True)
    added = ma.fields.Integer(required=True)
    changed = ma.fields.Integer(required=True)
    removed = ma.fields.Integer(required=True)
    errors = ma.fields.List(ma.fields.Nested(RowError), required=True)
    preview = ma.fields.Nested(ImportPreview, metadata={
        "description": "with ?preview=true: the parts of each change (at most 1000 listed each; the counts are whole)"})


class OwnerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    phone = Derived(ma.fields.String(allow_none=True), lambda o: mask_phone(decrypt_pii(o.phone_enc)),
                    metadata={"description": "masked, 138****1234"})
    has_id_number = Derived(ma.fields.Boolean(), lambda o: o.id_number_hash is not None)


class PartSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    building = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    room = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})
    owners = ma.fields.List(ma.fields.Nested(OwnerSchema), required=True)


class PartListArgs(PageArgs):
    building = ma.fields.String(validate=ma.validate.Length(max=32))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


@blp.route("/communities/<int:cid>/registry", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(RegistryImportArgs, location="query")
@blp.arguments(RegistryUpload, location="files")
@blp.response(200, ImportReport)
def import_registry(args, files, cid):
    """Import the owner registry (committee): row-level errors, all or nothing; `preview=true` only reports."""
    upload = files["file"]
    return service.import_registry(current_user(), cid, upload.filename, upload.read(), preview=args["preview"])


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.route("/communities/<int:cid>/registry/export", methods=["GET"])
@blp.doc(security=BEARER)
def export_registry(cid):
    """Download the current registry as .xlsx (committee, property staff, regulators); numbers masked."""
    data = service.export_registry(current_user(), cid)
    return Response(data, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="registry-{cid}.xlsx"'})


@blp.route("/communities/<int:cid>/parts", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PartListArgs, location="query")
@blp.response(200, page_schema(PartSchema, "PartPage"))
def list_parts(args, cid):
    """The current registry (committee, property staff, regulators); phones masked."""
    return service.list_parts(current_user(), cid, **args)
