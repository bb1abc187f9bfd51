// The API's error envelope as an exception, and its 422 field errors laid out for a form.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message)
    this.status = status
    this.code = code
    this.details = details || {}
  }

  static from(status, body) {
    const e = body && body.error
    if (e && e.code) return new ApiError(status, e.code, e.message || '请求失败', e.details)
    return new ApiError(status, 'http_' + status, `请求失败（HTTP ${status}）`, {})
  }

  /** {field: "message; message"} from details.fields (422), '' when none. */
  get fields() {
    return fieldErrors(this.details && this.details.fields)
  }
}

/**
 * Flatten the API's `details.fields` into {dotted.path: text}: it may be {field: [messages]} or nested
 * objects/lists of them ({content: {prices: {0: {price_fen: [...]}}}}) or already dotted keys.
 */
export function fieldErrors(fields, prefix = '') {
  const out = {}
  if (!fields || typeof fields !== 'object') return out
  for (const [key, value] of Object.entries(fields)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[path] = value.join('；')
    else if (typeof value === 'string') out[path] = value
    else if (Array.isArray(value)) value.forEach((v, i) => Object.assign(out, fieldErrors({ [i]: v }, path)))
    else Object.assign(out, fieldErrors(value, path))
  }
  return out
}

/** The error for a form field, also matching messages given for a parent path ("content" for "content.x"). */
export function errorFor(errors, path) {
  if (!errors) return ''
  if (errors[path]) return errors[path]
  return ''
}

/** Errors under a prefix, with the prefix removed ("content.items.0.name" → "items.0.name"). */
export function under(errors, prefix) {
  const out = {}
  for (const [k, v] of Object.entries(errors || {})) if (k.startsWith(prefix + '.')) out[k.slice(prefix.length + 1)] = v
  return out
}
