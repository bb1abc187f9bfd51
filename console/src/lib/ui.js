// Confirmations before destructive actions and the toast after them (Element Plus's function APIs).
import { ElMessage, ElMessageBox } from 'element-plus'

/** Ask before acting; true when confirmed. */
export async function confirmAction(message, title = '请确认', confirmText = '确定') {
  try {
    await ElMessageBox.confirm(message, title, { confirmButtonText: confirmText, cancelButtonText: '取消', type: 'warning' })
    return true
  } catch {
    return false
  }
}

/** Ask for a required reason (reject, withdraw…); the text, or null when cancelled. */
export async function promptReason(message, title) {
  try {
    const { value } = await ElMessageBox.prompt(message, title, {
      confirmButtonText: '确定', cancelButtonText: '取消', inputValidator: (v) => (v && v.trim() ? true : '请填写原因'),
    })
    return value.trim()
  } catch {
    return null
  }
}

export function ok(message) { ElMessage({ message, type: 'success' }) }
export function fail(error) { ElMessage({ message: error.message || String(error), type: 'error', duration: 5000 }) }
