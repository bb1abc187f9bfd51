// The one client of /api/v1: bearer token, the {"error": {code, message, details}} envelope turned
// into an ApiError, uploads with progress (XMLHttpRequest: fetch reports no upload progress), and
// downloads of protected files as blobs (an <img> or <a> cannot send the Authorization header).
import { reactive } from 'vue'
import { ApiError } from './lib/errors.js'
import { buildQuery } from './lib/query.js'

const TOKEN_KEY = 'linli-console-token'
export const auth = reactive({ token: localStorage.getItem(TOKEN_KEY) || '', me: null })
const listeners = new Set()

export function setToken(token) {
  auth.token = token || ''
  if (token) localStorage.setItem(TOKEN_KEY, token)
  else localStorage.removeItem(TOKEN_KEY)
}

export function onUnauthorized(fn) { listeners.add(fn) }

function headers(extra = {}) {
  return auth.token ? { Authorization: `Bearer ${auth.token}`, ...extra } : extra
}

async function fail(resp) {
  let body = null
  try { body = await resp.json() } catch { /* not JSON */ }
  const error = ApiError.from(resp.status, body)
  if (resp.status === 401 && auth.token) {
    setToken('')
    listeners.forEach((fn) => fn(error))
  }
  throw error
}

export async function request(method, path, { query, body } = {}) {
  const init = { method, headers: headers() }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['Content-Type'] = 'application/json'
  }
  let resp
  try {
    resp = await fetch('/api/v1' + path + buildQuery(query), init)
  } catch (e) {
    throw new ApiError(0, 'network_error', '无法连接服务器，请检查网络', {})
  }
  if (!resp.ok) await fail(resp)
  if (resp.status === 204) return null
  return resp.json()
}

export const api = {
  get: (path, query) => request('GET', path, { query }),
  post: (path, body, query) => request('POST', path, { body, query }),
  patch: (path, body) => request('PATCH', path, { body }),
  del: (path) => request('DELETE', path),
  request: (method, path, body) => request(method, path, { body }),
}

/** POST a multipart form with one file; onProgress(percent) while it is sent. */
export function upload(path, file, { fields = {}, query, onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', '/api/v1' + path + buildQuery(query))
    if (auth.token) xhr.setRequestHeader('Authorization', `Bearer ${auth.token}`)
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(Math.round((e.loaded / e.total) * 100)) }
    xhr.onerror = () => reject(new ApiError(0, 'network_error', '上传失败：无法连接服务器', {}))
    xhr.onload = () => {
      let body = null
      try { body = JSON.parse(xhr.responseText) } catch { /* empty */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body)
      else {
        const error = ApiError.from(xhr.status, body)
        if (xhr.status === 401) { setToken(''); listeners.forEach((fn) => fn(error)) }
        reject(error)
      }
    }
    const form = new FormData()
    form.append('file', file)
    Object.entries(fields).forEach(([k, v]) => form.append(k, v))
    xhr.send(form)
  })
}

/** A protected file as a Blob. */
export async function fetchBlob(path, query) {
  const resp = await fetch('/api/v1' + path + buildQuery(query), { headers: headers() })
  if (!resp.ok) await fail(resp)
  return resp.blob()
}

/** Download a protected file under `filename`. */
export async function download(path, filename, query) {
  const blob = await fetchBlob(path, query)
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}
