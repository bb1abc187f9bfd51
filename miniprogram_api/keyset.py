"""Keyset pages of the district's lists: `after` (the last id of the previous page) and `limit`;
the answer carries `next_after` (null on the last page)."""
import marshmallow as ma

from miniprogram_api.common import Schema

ID = ma.validate.Range(min=1, max=2**31 - 1)


class KeysetArgs(Schema):
    after = ma.fields.Integer(validate=ID, metadata={"description": "next_after of the previous page"})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


def keyset_schema(item_schema, name):
    """{items, next_after, limit} of `item_schema`."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "next_after": ma.fields.Integer(required=True, allow_none=True,
                                        metadata={"description": "pass as `after` for the next page; null: no more"}),
        "limit": ma.fields.Integer(required=True),
    })
