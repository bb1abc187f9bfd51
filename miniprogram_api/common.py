"""Fields and schemas shared by the resource modules."""
from datetime import timezone

import marshmallow as ma

from flask_smorest import Blueprint

BEARER = [{"bearerAuth": []}]
MIN_YEAR = 1970


class _Blueprint(Blueprint):
    """flask-smorest's Blueprint, given each argument schema as one instance made at import: webargs
    would otherwise build a new instance of a schema class (deep-copying its fields) on every request."""

    def arguments(self, schema, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


def blueprint(name, description):
    """A blueprint under /api/v1."""
    return _Blueprint(name, __name__, url_prefix="/api/v1", description=description)


class UTCDateTime(ma.fields.DateTime):
    """ISO 8601 UTC with a trailing Z, as the API does everywhere (docs/architecture.md); accepts any offset and converts to UTC.
    Years are 1970–9999: nothing in Linli happens earlier, and strftime would not pad a year < 1000."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise ma.ValidationError("时间须带时区（例如 2026-01-01T08:00:00Z）")
        try:
            result = result.astimezone(timezone.utc)
        except OverflowError:
            raise ma.ValidationError("时间超出范围") from None
        if not MIN_YEAR <= result.year:
            raise ma.ValidationError(f"时间须在 {MIN_YEAR} 年之后")
        return result


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


class Schema(ma.Schema):
    """Base schema of every input: unknown fields are refused so that typos surface as 422, and so is
    a NUL character anywhere (no text means one, and PostgreSQL cannot store it)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load(pass_collection=True)
    def _refuse_nul(self, data, **kwargs):
        if hasattr(data, "items"):  # webargs hands query strings and forms over as MultiDicts
            bad = sorted(str(k) for k in data if _has_nul(k) or _has_nul(data.getlist(k) if hasattr(data, "getlist")
                                                                             else data[k]))
            if bad:
                raise ma.ValidationError({k: ["不能包含空字符 (NUL)"] for k in bad})
        return data


class PageArgs(Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


def page_schema(item_schema, name):
    """A paginated list schema {items, page, per_page, total} of `item_schema`."""
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "per_page": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
        },
    )


def NonBlank(**kwargs):
    """A required string that must not be blank after stripping."""
    return ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=kwargs.pop("max", 255)),
                                                     lambda s: bool(s.strip()) or _blank()], **kwargs)


def _blank():
    raise ma.ValidationError("不能为空")


class Derived(ma.fields.Field):
    """A read-only value computed from the object by `getter(obj)`, serialised by — and documented in
    the OpenAPI as — the typed `field` (a String, a List of Nested…): clients generated from the spec
    get a real type where a bare Function field would give them none."""

    def __init__(self, field, getter, raw=False, **kwargs):
        """raw: the value is sent as the getter made it, `field` only documents it (a signed object,
        whose every byte must stay as signed)."""
        kwargs.setdefault("allow_none", field.allow_none)
        super().__init__(dump_only=True, **kwargs)
        self.field, self.getter, self.raw = field, getter, raw

    def _bind_to_schema(self, field_name, parent):
        super()._bind_to_schema(field_name, parent)
        self.field._bind_to_schema(field_name, parent)

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return self.getter(obj)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None or self.raw:
            return value
        return self.field._serialize(value, attr, obj, **kwargs)
