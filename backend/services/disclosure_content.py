"""The structured content of each published kind (docs/disclosures.md):
one marshmallow schema per kind, and the loader that turns a refusal into a 422 naming the fields
as dotted paths under `content` (e.g. `content.prices.2.price_fen`).

These are domain rules, not HTTP parsing, so they live beside the service that applies them: the
API, the demo loader and any future import all go through `load_content`.
Checks that need the database (parts and buildings in the registry, fee item codes, shares) are in
backend/services/disclosures.py.
"""
import re
import unicodedata
from datetime import date, timedelta, timezone

import marshmallow as ma

from backend.errors import Invalid
from backend.models.base import utcnow
from backend.models.disclosure import PUBLICATION_KINDS, REVENUE_KIND
from backend.services.apportionment import METHODS, ROUNDING_RULE
from voting.canonical import MAX_SAFE_INT, CanonicalError, check_canonical

BUILDING_TYPES = ("high_rise", "multi_storey", "villa", "shop")
FEE_BASES = ("per_m2_month", "per_part_month", "per_use")
UTILITY_CATEGORIES = ("electricity", "water")
INCOME_CATEGORIES = ("advertising", "parking", "venue_rental", "other")
EXPENSE_CATEGORIES = ("maintenance", "management_fee", "committee_operation", "tax", "other")
# China has had no daylight saving time since 1991: a fixed offset needs no tz database.
CHINA = timezone(timedelta(hours=8))

MESSAGES = {
    "required": "必填",
    "null": "不能为空",
    "invalid": "格式不正确",
    "type": "格式不正确",
    "unknown": "未知字段",
    "validator_failed": "取值无效",
}


def china_today():
    """Today's date in Asia/Shanghai (periods and dates in content are local dates)."""
    return utcnow().astimezone(CHINA).date()


# ---------------------------------------------------------------- fields


def _not_blank(value):
    if not value.strip():
        raise ma.ValidationError("不能为空")


def Text(max_len, required=True):
    """A non-blank string of at most `max_len` characters."""
    return ma.fields.String(
        required=required,
        validate=[ma.validate.Length(min=1, max=max_len, error=f"长度须在 1 到 {max_len} 之间"), _not_blank],
        error_messages={**MESSAGES, "invalid": "须为文本"},
    )


def Fen(minimum=0, required=True):
    """An integer amount in fen (never a float, never a boolean)."""
    return ma.fields.Integer(
        strict=True,
        required=required,
        validate=ma.validate.Range(min=minimum, max=MAX_SAFE_INT,
                                   error="金额须为不小于 {min} 的整数（单位：分）"),
        error_messages={**MESSAGES, "invalid": "须为整数（单位：分）"},
    )


class StrictBoolean(ma.fields.Boolean):
    """Only JSON true/false: 1, "yes" and "true" are refused (1 == True in Python's sets)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def Choice(choices, required=True):
    return ma.fields.String(required=required, validate=ma.validate.OneOf(choices, error="须为以下之一：{choices}"),
                            error_messages=MESSAGES)


def Items(schema, minimum=1, maximum=500, required=True):
    """A list of nested records."""
    return ma.fields.List(
        ma.fields.Nested(schema, error_messages=MESSAGES),
        required=required,
        validate=ma.validate.Length(min=minimum, max=maximum, error=f"须有 {minimum} 到 {maximum} 项"),
        error_messages={**MESSAGES, "invalid": "须为列表"},
    )


class ContentSchema(ma.Schema):
    """Base: unknown fields refused (a typo must not vanish silently), Chinese messages."""

    error_messages = {"unknown": "未知字段", "type": "格式不正确"}

    class Meta:
        unknown = ma.RAISE


def _unique(items, key, field):
    """Errors for the records whose `key` repeats an earlier one."""
    seen, errors = set(), {}
    for index, item in enumerate(items):
        value = key(item)
        if value in seen:
            errors[index] = {field: ["与前面的项重复"]}
        seen.add(value)
    return errors


# ---------------------------------------------------------------- the five disclosures


class ServiceItem(ContentSchema):
    name = Text(60)
    description = Text(1000)
    frequency = Text(60)


class ServiceContent(ContentSchema):
    """服务内容: what the property company does, and how often."""

    items = Items(ServiceItem)

    @ma.validates_schema
    def _names_unique(self, data, **kwargs):
        errors = _unique(data["items"], lambda i: i["name"], "name")
        if errors:
            raise ma.ValidationError({"items": errors})


class Clause(ContentSchema):
    title = Text(60)
    text = Text(2000)


class ServiceStandard(ContentSchema):
    """服务标准: the service grade and its clauses."""

    grade = Text(20)
    reference = Text(120, required=False)
    clauses = Items(Clause)


class FeeItem(ContentSchema):
    code = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z][a-z0-9_]{0,31}$", error="须为小写字母开头的字母、数字或下划线（最长 32）"), error_messages=MESSAGES)
    name = Text(60)
    basis = Choice(FEE_BASES)
    mandatory = StrictBoolean(required=True, error_messages={**MESSAGES, "invalid": "须为 true 或 false"})
    description = Text(500, required=False)


class FeeItems(ContentSchema):
    """收费项目: what is charged and on what basis."""

    items = Items(FeeItem, maximum=100)

    @ma.validates_schema
    def _codes_unique(self, data, **kwargs):
        errors = _unique(data["items"], lambda i: i["code"], "code")
        if errors:
            raise ma.ValidationError({"items": errors})


def _iso_date(value):
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ma.ValidationError("须为日期 YYYY-MM-DD") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ma.ValidationError("须为日期 YYYY-MM-DD")


class BuildingType(ContentSchema):
    building = Text(32)
    type = Choice(BUILDING_TYPES)


class Price(ContentSchema):
    item_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32), error_messages=MESSAGES)
    building_type = Choice(BUILDING_TYPES)
    price_fen = Fen()


class FeeStandards(ContentSchema):
    """收费标准: price in fen per basis unit of each fee item, by building type.

    The registry has no building type, so the standard itself says which building is of which
    type (`buildings`); a building not listed is of `default_building_type`."""

    filing_reference = Text(120)
    effective_date = ma.fields.String(required=True, validate=_iso_date, error_messages=MESSAGES)
    default_building_type = Choice(BUILDING_TYPES)
    buildings = Items(BuildingType, minimum=0, maximum=200, required=False)
    prices = Items(Price, maximum=400)

    @ma.validates_schema
    def _unique_rows(self, data, **kwargs):
        errors = {}
        price_errors = _unique(data["prices"], lambda p: (p["item_code"], p["building_type"]), "building_type")
        if price_errors:
            errors["prices"] = price_errors
        building_errors = _unique(data.get("buildings", []), lambda b: b["building"], "building")
        if building_errors:
            errors["buildings"] = building_errors
        if errors:
            raise ma.ValidationError(errors)


class Share(ContentSchema):
    """One part's share: the part by `part_id` or `label` ("building-unit-room"), or both agreeing.
    `area` is what the server stores beside each share; it may be sent back unchanged."""

    part_id = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31 - 1), error_messages=MESSAGES)
    label = Text(100, required=False)
    area = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=2**31 - 1), error_messages=MESSAGES)
    amount_fen = Fen()

    @ma.validates_schema
    def _names_a_part(self, data, **kwargs):
        if "part_id" not in data and "label" not in data:
            raise ma.ValidationError("须给出 part_id 或 label", "part_id")


def _month(value):
    match = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ma.ValidationError("须为月份 YYYY-MM")
    if (int(match.group(1)), int(match.group(2))) > (china_today().year, china_today().month):
        raise ma.ValidationError("不能是将来的月份")


class UtilityApportionment(ContentSchema):
    """公共水电费分摊: one month's shared electricity or water bill split over the parts.

    `by_area` and `equal` are computed by the server (largest remainder); `shares` may be omitted
    and are then filled in, or sent and must equal the computation. `metered` needs the shares."""

    period = ma.fields.String(required=True, validate=_month, error_messages=MESSAGES)
    category = Choice(UTILITY_CATEGORIES)
    total_fen = Fen(minimum=1)
    method = Choice(METHODS)
    installations = ma.fields.List(Text(60), required=True, validate=ma.validate.Length(
        min=1, max=50, error="须列出 1 到 50 项公共设施"), error_messages={**MESSAGES, "invalid": "须为列表"})
    buildings = ma.fields.List(Text(32), validate=ma.validate.Length(max=200),
                               error_messages={**MESSAGES, "invalid": "须为列表"})
    rounding = Choice((ROUNDING_RULE, "metered"), required=False)
    shares = Items(Share, minimum=0, maximum=20000, required=False)

    @ma.validates_schema
    def _metered_needs_shares(self, data, **kwargs):
        if data["method"] == "metered" and not data.get("shares"):
            raise ma.ValidationError("按表计量分摊须给出各户分摊额", "shares")
        if "rounding" in data and data["rounding"] != rounding_rule(data["method"]):
            raise ma.ValidationError(f"{data['method']} 的取整规则为 {rounding_rule(data['method'])}", "rounding")
        if len(set(data.get("buildings", []))) != len(data.get("buildings", [])):
            raise ma.ValidationError("楼栋重复", "buildings")


def rounding_rule(method):
    """The rule stated in stored content: computed methods use largest remainder."""
    return "metered" if method == "metered" else ROUNDING_RULE


# ---------------------------------------------------------------- public-revenue statements


def _half_year(value):
    match = re.fullmatch(r"(\d{4})-H([12])", value)
    if not match:
        raise ma.ValidationError("须为半年度 YYYY-H1 或 YYYY-H2")
    start_month = 1 if match.group(2) == "1" else 7
    today = china_today()
    if (int(match.group(1)), start_month) > (today.year, today.month):
        raise ma.ValidationError("不能是尚未开始的半年度")


class RevenueLine(ContentSchema):
    description = Text(200)
    amount_fen = Fen()


class IncomeLine(RevenueLine):
    category = Choice(INCOME_CATEGORIES)


class ExpenseLine(RevenueLine):
    category = Choice(EXPENSE_CATEGORIES)


class RevenueStatement(ContentSchema):
    """公共收益收支: a half-year's public revenue and its spending, with the balance.

    The totals and the closing balance are computed by the server; when sent they must agree."""

    period = ma.fields.String(required=True, validate=_half_year, error_messages=MESSAGES)
    opening_balance_fen = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(
        min=-MAX_SAFE_INT, max=MAX_SAFE_INT), error_messages={**MESSAGES, "invalid": "须为整数（单位：分）"})
    income = Items(IncomeLine, minimum=0)
    expenses = Items(ExpenseLine, minimum=0)
    income_total_fen = Fen(required=False)
    expense_total_fen = Fen(required=False)
    closing_balance_fen = ma.fields.Integer(strict=True, error_messages={**MESSAGES, "invalid": "须为整数（单位：分）"})

    @ma.post_load
    def _balance(self, data, **kwargs):
        computed = {"income_total_fen": sum(line["amount_fen"] for line in data["income"]),
                    "expense_total_fen": sum(line["amount_fen"] for line in data["expenses"])}
        computed["closing_balance_fen"] = (data["opening_balance_fen"] + computed["income_total_fen"]
                                           - computed["expense_total_fen"])
        errors = {field: [f"应为 {value}（按收支明细计算）"] for field, value in computed.items()
                  if field in data and data[field] != value}
        if errors:
            raise ma.ValidationError(errors)
        too_large = {field: ["金额超出范围"] for field, value in computed.items() if abs(value) > MAX_SAFE_INT}
        if too_large:
            raise ma.ValidationError(too_large)
        return {**data, **computed}


SCHEMAS = {
    "service_content": ServiceContent,
    "service_standard": ServiceStandard,
    "fee_items": FeeItems,
    "fee_standards": FeeStandards,
    "utility_apportionment": UtilityApportionment,
    REVENUE_KIND: RevenueStatement,
}
assert set(SCHEMAS) == set(PUBLICATION_KINDS)


# ---------------------------------------------------------------- loading


def nfc(value):
    """Strings NFC-normalised all the way down (canonical JSON accepts NFC only)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k) if isinstance(k, str) else k: nfc(v) for k, v in value.items()}
    return value


def flatten(messages, prefix):
    """marshmallow's nested messages → {"content.items.0.name": [..]}."""
    if isinstance(messages, dict):
        out = {}
        for key, value in messages.items():
            name = prefix if key == "_schema" else f"{prefix}.{key}"
            for path, errors in flatten(value, name).items():
                out.setdefault(path, []).extend(errors)
        return out
    return {prefix: list(messages) if isinstance(messages, list) else [messages]}


def load_content(kind, content):
    """Validate `content` of `kind`; returns the loaded dict or raises Invalid (fields as dotted paths)."""
    if kind not in SCHEMAS:
        raise Invalid({"kind": [f"须为以下之一：{', '.join(SCHEMAS)}"]})
    if not isinstance(content, dict):
        raise Invalid({"content": ["须为对象"]})
    try:
        data = SCHEMAS[kind]().load(nfc(content))
        check_canonical(data)
    except ma.ValidationError as exc:
        raise Invalid(flatten(exc.messages, "content")) from None
    except CanonicalError as exc:
        # e.g. a lone surrogate in a string: it has no canonical form, so it cannot be hashed or signed
        raise Invalid({"content": [f"含有无法规范化的内容：{exc}"]}) from None
    return data
