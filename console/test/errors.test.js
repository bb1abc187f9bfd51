import { describe, expect, it } from 'vitest'
import { ApiError, fieldErrors, under } from '../src/lib/errors.js'

describe("the API's error envelope", () => {
  it('becomes an ApiError with its code and Chinese message', () => {
    const e = ApiError.from(409, { error: { code: 'vote_not_due', message: '表决尚未到截止时间', details: {} } })
    expect([e.status, e.code, e.message]).toEqual([409, 'vote_not_due', '表决尚未到截止时间'])
    const bare = ApiError.from(502, null)
    expect([bare.code, bare.message]).toEqual(['http_502', '请求失败（HTTP 502）'])
  })
  it('lays 422 field errors out by dotted path, whatever their nesting', () => {
    const fields = {
      title: ['不能为空'],
      fund: { amount_fen: ['须大于 0', '须为整数'] },
      candidates: { 1: { name: ['必填'] } },
      'content.prices.0.price_fen': ['须为整数'],
      scope: [{ buildings: ['楼栋不存在'] }],
    }
    expect(fieldErrors(fields)).toEqual({
      title: '不能为空', 'fund.amount_fen': '须大于 0；须为整数', 'candidates.1.name': '必填',
      'content.prices.0.price_fen': '须为整数', 'scope.0.buildings': '楼栋不存在',
    })
    const e = ApiError.from(422, { error: { code: 'validation_error', message: 'x', details: { fields } } })
    expect(e.fields.title).toBe('不能为空')
    expect(fieldErrors(undefined)).toEqual({})
  })
  it('picks the errors of one list', () => {
    expect(under({ 'content.items.0.name': 'a', 'content.items.2.code': 'b', note: 'c' }, 'content.items'))
      .toEqual({ '0.name': 'a', '2.code': 'b' })
  })
})
