"""Chinese for the validation messages that marshmallow and webargs write in English.

One table, applied in one place: the 422 envelope (miniprogram_api/errors.py) passes every message of
`details.fields` through `translate`, whether webargs produced it from a schema or a service raised
Invalid with marshmallow's messages (disclosure contents are validated with marshmallow schemas too).
Our own messages are Chinese already and pass through unchanged. A test walks marshmallow's fields
and validators so that a message missing here fails the suite after an upgrade.
"""
import re

# marshmallow's (and webargs') default message templates → Chinese. "{name}" parts are carried over.
TRANSLATIONS = {
    # fields
    "Missing data for required field.": "缺少必填字段",
    "Field may not be null.": "不能为 null",
    "Invalid value.": "值无效",
    "Invalid type.": "类型无效，须为对象",
    "Not a valid list.": "须为数组",
    "Not a valid tuple.": "须为数组",
    "Not a valid string.": "须为字符串",
    "Not a valid utf-8 string.": "须为有效的 UTF-8 字符串",
    "Not a valid UUID.": "须为有效的 UUID",
    "Not a valid number.": "须为数字",
    "Number too large.": "数字过大",
    "Not a valid integer.": "须为整数",
    "Special numeric values (nan or infinity) are not permitted.": "不允许 NaN 或 Infinity",
    "Not a valid boolean.": "须为布尔值（true 或 false）",
    "Not a valid {obj_type}.": "须为有效的{obj_type}",
    "Not a valid {awareness} {obj_type}.": "须为有效的{awareness}{obj_type}",
    '"{input}" cannot be formatted as a {obj_type}.': "无法格式化为{obj_type}",
    "Not a valid date.": "须为有效的日期（YYYY-MM-DD）",
    '"{input}" cannot be formatted as a date.': "无法格式化为日期",
    "Not a valid period of time.": "须为有效的时长",
    "{input!r} cannot be formatted as a timedelta.": "无法格式化为时长",
    "Not a valid mapping type.": "须为对象",
    "Not a valid URL.": "须为有效的网址",
    "Not a valid email address.": "须为有效的电子邮件地址",
    "Not a valid IP address.": "须为有效的 IP 地址",
    "Not a valid IPv4 address.": "须为有效的 IPv4 地址",
    "Not a valid IPv6 address.": "须为有效的 IPv6 地址",
    "Not a valid IP interface.": "须为有效的 IP 接口",
    "Not a valid IPv4 interface.": "须为有效的 IPv4 接口",
    "Not a valid IPv6 interface.": "须为有效的 IPv6 接口",
    # schemas
    "Invalid input type.": "类型无效，须为对象",
    "Unknown field.": "未知字段",
    # validators
    "Must be one of: {choices}.": "须为以下之一：{choices}",
    "Must be greater than or equal to {min} and less than or equal to {max}.": "须在 {min} 到 {max} 之间",
    "Must be greater than or equal to {min} and less than {max}.": "须不小于 {min} 且小于 {max}",
    "Must be greater than {min} and less than or equal to {max}.": "须大于 {min} 且不大于 {max}",
    "Must be greater than {min} and less than {max}.": "须大于 {min} 且小于 {max}",
    "Must be greater than or equal to {min}.": "须不小于 {min}",
    "Must be greater than {min}.": "须大于 {min}",
    "Must be less than or equal to {max}.": "须不大于 {max}",
    "Must be less than {max}.": "须小于 {max}",
    "Shorter than minimum length {min}.": "长度不能少于 {min}",
    "Longer than maximum length {max}.": "长度不能超过 {max}",
    "Length must be between {min} and {max}.": "长度须在 {min} 到 {max} 之间",
    "Length must be {equal}.": "长度须为 {equal}",
    "Must be equal to {other}.": "须等于 {other}",
    "String does not match expected pattern.": "格式不正确",
    "Invalid input.": "输入无效",
    "One or more of the choices you made was not in: {choices}.": "所选的值须在以下范围内：{choices}",
    "One or more of the choices you made was in: {values}.": "所选的值不能是：{values}",
    # webargs
    "Invalid JSON body.": "请求体不是有效的 JSON",
}

# Words that marshmallow puts into the templates above ({obj_type}, {awareness}).
WORDS = {"datetime": "日期时间", "date": "日期", "time": "时间", "aware": "带时区的", "naive": "不带时区的"}

_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rs])?\}")


def _pattern(template):
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


# Fixed messages by lookup, templates by pattern (most specific first: longer literal parts).
_FIXED = {english: chinese for english, chinese in TRANSLATIONS.items() if not _PLACEHOLDER.search(english)}
_TEMPLATES = sorted(((_pattern(english), chinese) for english, chinese in TRANSLATIONS.items()
                     if _PLACEHOLDER.search(english)), key=lambda pair: -len(_PLACEHOLDER.sub("", pair[0].pattern)))


def translate(message):
    """marshmallow's English message in Chinese; anything else (our own messages) unchanged."""
    if not isinstance(message, str):
        return message
    fixed = _FIXED.get(message)
    if fixed is not None:
        return fixed
    for pattern, chinese in _TEMPLATES:
        match = pattern.match(message)
        if match:
            values = {key: WORDS.get(value, value) for key, value in match.groupdict().items()}
            return chinese.format(**values)
    return message


def translate_fields(fields):
    """Every message of a details.fields tree (dicts of lists of messages, nested) in Chinese."""
    if isinstance(fields, dict):
        return {key: translate_fields(value) for key, value in fields.items()}
    if isinstance(fields, (list, tuple)):
        return [translate_fields(item) for item in fields]
    return translate(fields)
