"""Every JSON request body is checked once, before any handler: well-formed UTF-8 JSON, nesting at
most MAX_DEPTH deep, integers of at most MAX_INT_DIGITS digits, no NaN/Infinity and no key twice in
one object (a signed ballot must mean one thing). Anything else is a 400 with the error envelope —
never a RecursionError or an int-conversion error in a handler (docs/errors.md)."""
import json

from flask import request

from backend.errors import DomainError

MAX_DEPTH = 32
MAX_INT_DIGITS = 20  # past 2^64; the protocol's integers stop at 2^53−1 (docs/protocol.md)
MAX_NUMBER_CHARS = 40


class BadJson(DomainError):
    status = 400

    def __init__(self, reason):
        super().__init__("invalid_json", f"请求体不是有效的 JSON：{reason}", details={"reason": reason})


def _object(pairs):
    seen = set()
    for key, _ in pairs:
        if key in seen:
            raise BadJson(f"对象中的键 “{key[:40]}” 重复出现")
        seen.add(key)
    return dict(pairs)


def _integer(text):
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJson(f"整数位数超过 {MAX_INT_DIGITS} 位")
    return int(text)


def _number(text):
    if len(text) > MAX_NUMBER_CHARS:
        raise BadJson("数字过长")
    return float(text)


def _constant(name):
    raise BadJson(f"不支持 {name}")


def _depth(value):
    """Nesting depth of a parsed value, iteratively (the value is already bounded by the parser)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def parse(data):
    """The JSON value of `data` (bytes) under the rules above, or BadJson."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadJson("不是 UTF-8 编码") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_integer, parse_float=_number,
                           parse_constant=_constant)
    except RecursionError:
        raise BadJson(f"嵌套层数超过 {MAX_DEPTH} 层") from None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise BadJson(f"语法错误（第 {getattr(exc, 'lineno', '?')} 行第 {getattr(exc, 'colno', '?')} 列）") from None
    if _depth(value) > MAX_DEPTH:
        raise BadJson(f"嵌套层数超过 {MAX_DEPTH} 层")
    return value


def check_json_body():
    """before_request: refuse a JSON body that breaks the rules (an empty body is left to the handler)."""
    if request.is_json:
        data = request.get_data(cache=True)
        if data.strip():
            parse(data)
