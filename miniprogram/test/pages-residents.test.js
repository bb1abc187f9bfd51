'use strict';
// What a resident sees on the other pages: home (and the state before any verified flat), my flat
// (pending and rejected claims explained; a claim's answer), notices with the read receipt, the
// disclosures' diff, my fees with the arithmetic, tickets (empty, new with photos, detail, confirm),
// the console sign-in and the signed-in consoles.
const test = require('node:test');
const assert = require('node:assert/strict');
const { installWx, openPage, text, all, tap, settleAll } = require('../test-support/pages.js');
const { standard, ok, refuse } = require('../test-support/fake-server.js');

const page = (items) => ok({ items, page: 1, per_page: 50, total: items.length });

test('home: my community, pinned notices, my open votes, my open tickets', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/notices', () => page([
    { id: 1, title: '周六停水', pinned: true, important: true, published_at: '2026-11-26T01:00:00Z' },
    { id: 2, title: '普通通知', pinned: false, important: false, published_at: '2026-11-26T02:00:00Z' }]));
  wx.__route('GET', '/api/v1/me/votes', () => page([{ id: 5, community_id: 3, title: '更换电梯', closes_at: '2026-12-01T04:00:00Z' }]));
  wx.__route('GET', '/api/v1/communities/3/tickets', () => page([
    { id: 8, subject: 'elevator', description: '电梯异响', status: 'in_progress' },
    { id: 9, subject: 'noise', description: '已完结', status: 'confirmed' }]));
  standard(wx);
  const comp = await openPage('pages/home/index', {});
  assert.equal(text(comp, '.community-name'), '阳光花园 ▾');
  assert.equal(all(comp, '.notice-item').length, 1);
  assert.match(text(comp, '.notice-item'), /周六停水/);
  assert.match(text(comp, '.vote-item'), /更换电梯.*截止 2026-12-01 12:00/);
  assert.equal(all(comp, '.ticket-item').length, 1);
  assert.match(text(comp, '.ticket-item'), /电梯 · 电梯异响.*处理中/);
  await tap(comp, '.vote-item');
  assert.deepEqual(wx.__calls.navigate, ['/pages/votes/detail?id=5']);
});

test('home: empty lists say so', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/notices', () => page([]));
  wx.__route('GET', '/api/v1/me/votes', () => page([]));
  wx.__route('GET', '/api/v1/communities/3/tickets', () => page([]));
  standard(wx);
  const comp = await openPage('pages/home/index', {});
  assert.equal(text(comp, '.empty-notices'), '暂无置顶公告');
  assert.equal(text(comp, '.empty-votes'), '没有需要您参加的表决');
  assert.equal(text(comp, '.empty-tickets'), '没有未完结的工单');
});

test('home with a pending claim only: nothing of the community, and why', async () => {
  const wx = installWx();
  standard(wx, { me: { user: { id: 11 }, communities: [], bindings: [{ id: 4, community_id: 3, label: '3-1-101', status: 'pending', reason: '与名册不符', created_at: '2026-11-27T00:00:00Z' }] } });
  const comp = await openPage('pages/home/index', {});
  assert.match(text(comp, '.no-community'), /还没有可进入的小区.*审核通过前看不到小区内的公告、表决和公开信息/);
  assert.match(text(comp, '.pending-claim'), /3-1-101.*待审核/);
  assert.ok(!wx.__calls.request.some((r) => /\/communities\/3\//.test(r.url)), 'no community content is even asked for');
});

test('my flat: pending and rejected claims explained (claims reveal nothing); the phone button', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities', () => page([{ id: 3, name: '阳光花园', district: '朝阳区' }]));
  standard(wx, { me: { user: { id: 11, phone: null, phone_verified_at: null }, communities: [], bindings: [
    { id: 4, community_id: 3, label: '3-1-101', status: 'pending', reason: null, created_at: '2026-11-27T00:00:00Z' },
    { id: 5, community_id: 3, label: '3-1-102', status: 'rejected', reason: '姓名与房产证不符', created_at: '2026-11-27T00:00:00Z' }] } });
  let phoneCode = null;
  wx.__route('POST', '/api/v1/me/phone', ({ body }) => { phoneCode = body.code; return ok({ id: 11, phone: '138****0001', phone_verified_at: '2026-11-27T00:00:00Z' }); });
  const comp = await openPage('pages/login/index', {});
  assert.match(text(comp, '.binding-pending'), /待审核.*审核通过前，您看不到小区内的公告、表决和公开信息.*不会透露这套房屋是否在业主名册中/);
  assert.match(text(comp, '.binding-rejected'), /未通过.*原因：姓名与房产证不符/);
  assert.ok(comp.querySelector('.phone-button'));
  await comp.instance.onPhone({ detail: { code: 'phone-13800000001~1' } });
  await settleAll();
  assert.equal(phoneCode, 'phone-13800000001~1');
  assert.equal(text(comp, '.phone-verified'), '已验证：138****0001');
});

test('my flat: a claim answered pending, with the certificate photo uploaded first', async () => {
  const wx = installWx({ media: ['wxfile://cert.jpg'] });
  wx.__route('GET', '/api/v1/communities', () => page([{ id: 3, name: '阳光花园', district: '朝阳区' }]));
  let claim = null;
  wx.__route('POST', '/api/v1/media', () => ok({ id: 77, content_type: 'image/jpeg' }, 201));
  wx.__route('POST', '/api/v1/communities/3/bindings', ({ body }) => {
    claim = body;
    return ok({ id: 9, community_id: 3, label: '3-1-101', claimed_name: body.name, status: 'pending', method: null, reason: '手机号与名册不符', created_at: '2026-11-27T00:00:00Z', events: [] }, 201);
  });
  standard(wx, { me: { user: { id: 11 }, communities: [], bindings: [] } });
  const comp = await openPage('pages/login/index', {});
  assert.equal(text(comp, '.no-bindings'), '还没有认领房屋');
  comp.instance.pickCommunity({ detail: { value: '0' } });
  for (const [field, value] of [['building', '3'], ['unit', '1'], ['room', '101'], ['name', '林晓梅']]) {
    comp.instance.onInput({ currentTarget: { dataset: { field } }, detail: { value } });
  }
  comp.instance.chooseCertificate();
  await settleAll(40);
  await tap(comp, '.claim-submit');
  assert.deepEqual(claim, { building: '3', unit: '1', room: '101', name: '林晓梅', certificate_media_id: 77 });
  assert.match(text(comp, '.claim-pending'), /3-1-101：待审核.*审核通过前/);
});

test('notices: the list, and opening one sends the read receipt', async () => {
  const wx = installWx();
  let read = 0;
  wx.__route('GET', '/api/v1/communities/3/notices', () => page([{ id: 2, title: '电梯维保', pinned: false, important: false, category: 'maintenance', read_at: null, published_at: '2026-11-26T02:00:00Z' }]));
  wx.__route('GET', '/api/v1/communities/3/notices/2', () => ok({ id: 2, title: '电梯维保', body: '周一 9:00-12:00', category: 'maintenance', publisher_role: 'property_staff', status: 'published', attachment_ids: [], published_at: '2026-11-26T02:00:00Z' }));
  wx.__route('POST', '/api/v1/communities/3/notices/2/read', () => { read += 1; return ok({ id: 2, read_at: '2026-11-27T01:00:00Z' }); });
  standard(wx);
  const list = await openPage('pages/notices/index', { cid: '3' });
  assert.match(text(list, '.notice-item'), /电梯维保.*未读.*维修/);
  const comp = await openPage('pages/notices/detail', { cid: '3', id: '2' });
  assert.equal(text(comp, '.notice-title'), '电梯维保');
  assert.equal(read, 1);
  assert.equal(text(comp, '.notice-read'), '已读 2026-11-27 09:00');
});

test('notices: empty list', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/notices', () => page([]));
  standard(wx);
  const comp = await openPage('pages/notices/index', { cid: '3' });
  assert.equal(text(comp, '#state'), '暂无公告');
});

test('a disclosure: its content, its versions and the field-by-field diff in Chinese', async () => {
  const wx = installWx();
  const v = (n, price) => ({ id: n, community_id: 3, kind: 'fee_standards', series: '', version: n, content_sha256: 'ab'.repeat(32), note: n === 2 ? '调价' : null,
    attachments: [], author_id: 1, published_at: '2026-11-0' + n + 'T00:00:00Z',
    content: { filing_reference: '京发改备 2026-1', effective_date: '2026-12-01', default_building_type: 'high_rise', buildings: [], prices: [{ item_code: 'service', building_type: 'high_rise', price_fen: price }] } });
  wx.__route('GET', '/api/v1/communities/3/disclosures/fee_standards/versions', () => page([v(2, 235), v(1, 220)]));
  wx.__route('GET', /^\/api\/v1\/communities\/3\/disclosures\/fee_standards\/versions\/(\d)$/, ({ match }) => ok(v(Number(match[1]), match[1] === '2' ? 235 : 220)));
  wx.__route('GET', '/api/v1/communities/3/disclosures/fee_standards/diff', ({ query }) => ok({ kind: 'fee_standards', series: '', changes: [{ path: '/prices/0/price_fen', op: 'changed', old: 220, new: 235 }], from: { version: Number(query.from) }, to: { version: Number(query.to) } }));
  standard(wx);
  const comp = await openPage('pages/disclosures/detail', { cid: '3', kind: 'fee_standards' });
  const rows = all(comp, '.content-row').map((r) => r.dom.textContent);
  assert.ok(rows.some((r) => /价格 · 第 1 项 · 单价.*¥2\.35/.test(r)), rows.join('|'));
  assert.ok(rows.some((r) => /默认楼型.*高层/.test(r)));
  assert.equal(all(comp, '.version-item').length, 2);
  await tap(comp, '.diff-button');
  assert.match(text(comp, '.diff'), /第 1 版 → 第 2 版.*修改.*价格 · 第 1 项 · 单价.*原：¥2\.20.*新：¥2\.35/);
});

test('my fees: each fee with its arithmetic, integer-exact', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/my-fees', () => ok({
    community_id: 3, rounding: 'half_up', fee_items_version: 1, fee_standards: { version: 2, effective_date: '2026-12-01' }, apportionment: { version: 1, period: '2026-10' },
    parts: [{ part_id: 1, label: '3-1-101', area: 8950, building_type: 'high_rise', monthly_total_fen: 23033, apportionment_fen: 1234, fees: [
      { code: 'service', name: '物业服务费', basis: 'per_m2_month', mandatory: true, price_fen: 235, monthly_fen: 21033 },
      { code: 'parking', name: '车位管理费', basis: 'per_part_month', mandatory: false, price_fen: 2000, monthly_fen: 2000 }] }],
    monthly_total_fen: 23033, apportionment_total_fen: 1234 }));
  standard(wx);
  const comp = await openPage('pages/fees/index', { cid: '3' });
  const lines = all(comp, '.fee-arithmetic').map((l) => l.dom.textContent);
  assert.equal(lines[0], '89.50 m² × ¥2.35/m² = ¥210.325 → ¥210.33（四舍五入到分）');
  assert.equal(lines[1], '每户每月 ¥20.00');
  assert.equal(text(comp, '.fees-total'), '¥230.33');
  assert.equal(text(comp, '.part-apportionment'), '¥12.34');
});

test('tickets: the empty list, and a community-less user told why', async () => {
  const wx = installWx();
  wx.__store.set('linli/community', '3');
  wx.__route('GET', '/api/v1/communities/3/tickets', () => page([]));
  standard(wx);
  const comp = await openPage('pages/tickets/index', {});
  assert.equal(text(comp, '#state'), '您还没有提交过工单');
  const wx2 = installWx();
  standard(wx2);
  const none = await openPage('pages/tickets/index', {});
  assert.match(text(none, '.no-community'), /认证为业主或住户后才能提交工单/);
});

test('a new ticket: photos uploaded one per request with progress, then filed with their ids', async () => {
  const wx = installWx({ media: ['wxfile://a.jpg', 'wxfile://b.jpg'] });
  let next = 100;
  let filed = null;
  wx.__route('POST', '/api/v1/media', () => ok({ id: next++, content_type: 'image/jpeg' }, 201));
  wx.__route('POST', '/api/v1/communities/3/tickets', ({ body }) => { filed = body; return ok(Object.assign({ id: 12 }, body), 201); });
  standard(wx);
  const comp = await openPage('pages/tickets/new', { cid: '3' });
  comp.instance.pickCategory({ detail: { value: '0' } });
  comp.instance.pickSubject({ detail: { value: '0' } });
  comp.instance.onDescription({ detail: { value: '电梯异响' } });
  comp.instance.onLocation({ detail: { value: '3 号楼 1 单元' } });
  await tap(comp, '.add-photo');
  assert.equal(wx.__calls.upload.length, 2, 'one request per photo');
  assert.deepEqual(comp.instance.data.photos.map((p) => [p.id, p.progress]), [[100, 100], [101, 100]]);
  await tap(comp, '.ticket-submit');
  assert.deepEqual(filed, { category: 'repair', subject: 'elevator', description: '电梯异响', location: '3 号楼 1 单元', photo_ids: [100, 101] });
  assert.deepEqual(wx.__calls.subscribe, [['TPL-STATUS', 'TPL-REPLY']]);
  assert.deepEqual(wx.__calls.navigate, ['/pages/tickets/detail?id=12']);
});

test('a new ticket refused: the server\'s Chinese message on the page', async () => {
  const wx = installWx();
  wx.__route('POST', '/api/v1/communities/3/tickets', () => refuse(422, 'validation_error', '位置和房屋至少填写一项'));
  standard(wx);
  const comp = await openPage('pages/tickets/new', { cid: '3' });
  comp.instance.pickSubject({ detail: { value: '1' } });
  comp.instance.onDescription({ detail: { value: '乱停车' } });
  comp.instance.onLocation({ detail: { value: '北门' } });
  await tap(comp, '.ticket-submit');
  assert.equal(text(comp, '.ticket-error'), '位置和房屋至少填写一项');
});

test('a ticket: timeline, photos fetched with the bearer header, confirm with a rating', async () => {
  const wx = installWx();
  let status = 'resolved';
  let moved = null;
  wx.__route('GET', '/api/v1/tickets/12', () => ok({
    id: 12, community_id: 3, reporter_id: 11, category: 'repair', subject: 'elevator', description: '电梯异响', location: '3 号楼', status,
    created_at: '2026-11-25T00:00:00Z', due_at: '2026-11-27T00:00:00Z', overdue: false, escalated_at: null,
    photos: [{ id: 100, url: '/api/v1/media/100', thumbnail_url: '/api/v1/media/100/thumbnail' }],
    events: [{ id: 1, action: 'submitted', actor_role: 'reporter', created_at: '2026-11-25T00:00:00Z' },
      { id: 2, action: 'transition', actor_role: 'property_staff', from_status: 'submitted', to_status: 'accepted', created_at: '2026-11-25T01:00:00Z' }],
    replies: [{ id: 3, author_role: 'property_staff', body: '已更换导靴', photos: [], created_at: '2026-11-26T00:00:00Z' }]
  }));
  wx.__route('GET', /^\/api\/v1\/media\/100(\/thumbnail)?$/, () => ({ statusCode: 200 }));
  wx.__route('POST', '/api/v1/tickets/12/transitions', ({ body }) => { moved = body; status = 'confirmed'; return ok({ id: 12 }); });
  standard(wx);
  await require('../lib/request.js').client().login(); // the user (id 11) is the reporter
  const comp = await openPage('pages/tickets/detail', { id: '12' });
  const items = all(comp, '.timeline-item').map((i) => i.dom.textContent.replace(/\s+/g, ' '));
  assert.equal(items.length, 3);
  assert.match(items[1], /物业.*已提交 → 已受理/);
  assert.match(items[2], /已更换导靴/);
  const download = wx.__calls.download.find((d) => /\/media\/100\/thumbnail$/.test(d.url));
  assert.equal(download.header.Authorization, 'Bearer tok');
  assert.ok(comp.querySelector('.answer'));
  all(comp, '.star')[3].dispatchEvent('tap');
  await settleAll();
  await tap(comp, '.ticket-confirm');
  assert.deepEqual(moved, { to: 'confirmed', rating: 4 });
  assert.equal(text(comp, '.ticket-status'), '已确认');
});

test('console sign-in: which console and which roles, then confirm; a foreign QR is refused', async () => {
  const wx = installWx({ scan: 'https://example.com/not-linli' });
  let confirmed = 0;
  wx.__route('GET', '/api/v1/console/login-challenges/abc123', () => ok({
    code: 'abc123', status: 'pending', expires_at: '2026-11-27T08:02:00Z', is_platform_admin: false,
    console: { origin: 'https://console.linli.example', user_agent: 'Chrome 131', client_ip: '10.0.0.8' },
    communities: [{ community_id: 3, community_name: '阳光花园', roles: ['committee'] }] }));
  wx.__route('POST', '/api/v1/console/login-challenges/abc123/confirm', () => { confirmed += 1; return ok({ code: 'abc123', status: 'confirmed' }); });
  standard(wx);
  const mine = await openPage('pages/mine/index', {});
  await tap(mine, '.scan-console');
  assert.equal(text(mine, '.scan-error'), '这不是邻里管理后台的登录二维码');
  assert.deepEqual(wx.__calls.navigate, []);
  const wx2 = installWx({ scan: 'linli-console-login:abc123' });
  wx2.__routes.push(...wx.__routes);
  const mine2 = await openPage('pages/mine/index', {});
  await tap(mine2, '.scan-console');
  assert.deepEqual(wx2.__calls.navigate, ['/pages/console/confirm?code=abc123']);
  const comp = await openPage('pages/console/confirm', { code: 'abc123' });
  assert.equal(text(comp, '.console-origin'), 'https://console.linli.example');
  assert.match(text(comp, '.console-role'), /阳光花园.*业委会/);
  await tap(comp, '.console-confirm');
  assert.equal(confirmed, 1);
  assert.match(text(comp, '.console-confirmed'), /已确认/);
});

test('console sign-in refused for a user without a console role: the Chinese reason', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/console/login-challenges/zzz', () => refuse(403, 'no_console_role', '您没有管理后台的权限'));
  standard(wx);
  const comp = await openPage('pages/console/confirm', { code: 'zzz' });
  assert.match(text(comp, '#state'), /您没有管理后台的权限/);
  assert.ok(!comp.querySelector('.console-confirm'));
});

test('signed-in consoles: listed, and 退出 ends one', async () => {
  const wx = installWx();
  const sessions = [
    { id: 's-phone', kind: 'miniprogram', created_at: '2026-11-27T00:00:00Z', expires_at: '2026-12-04T00:00:00Z', current: true },
    { id: 's-console', kind: 'console', created_at: '2026-11-27T01:00:00Z', expires_at: '2026-11-27T13:00:00Z', user_agent: 'Chrome 131', client_ip: '10.0.0.8', current: false }];
  const ended = [];
  wx.__route('GET', '/api/v1/me/sessions', () => ok(sessions.filter((s) => !ended.includes(s.id))));
  wx.__route('DELETE', /^\/api\/v1\/me\/sessions\/(.+)$/, ({ match }) => { ended.push(match[1]); return { statusCode: 204 }; });
  standard(wx);
  const comp = await openPage('pages/console/sessions', {});
  assert.equal(all(comp, '.session').length, 2);
  assert.equal(all(comp, '.session-end').length, 1, 'the current session is not offered');
  await tap(comp, '.session-end');
  assert.deepEqual(ended, ['s-console']);
  assert.equal(all(comp, '.session').length, 1);
});

test('五个公开: the five kinds (published or not) and the ways to fees, revenue and the emergency fund', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/disclosures', () => ok({ community_id: 3, kinds: [
    { kind: 'service_content', title: '服务内容', current: { version: 2, published_at: '2026-11-01T00:00:00Z' } },
    { kind: 'service_standard', title: '服务标准', current: null },
    { kind: 'fee_items', title: '收费项目', current: null },
    { kind: 'fee_standards', title: '收费标准', current: null },
    { kind: 'utility_apportionment', title: '公共水电费分摊', current: null }] }));
  standard(wx);
  const comp = await openPage('pages/disclosures/index', { cid: '3' });
  const kinds = all(comp, '.disclosure-kind').map((k) => k.dom.textContent.replace(/\s+/g, ' '));
  assert.equal(kinds.length, 5);
  assert.match(kinds[0], /服务内容.*第 2 版/);
  assert.match(kinds[1], /服务标准.*尚未公开/);
  await tap(comp, '.go-fees');
  await tap(comp, '.disclosure-kind');
  assert.deepEqual(wx.__calls.navigate, ['/pages/fees/index?cid=3', '/pages/disclosures/detail?cid=3&kind=service_content']);
});

test('revenue statements: the balance arithmetic of each half-year; the emergency fund records', async () => {
  const wx = installWx();
  wx.__route('GET', '/api/v1/communities/3/revenue-statements', () => page([{ series: '2026-H1', version: 2, published_at: '2026-07-01T00:00:00Z',
    content: { opening_balance_fen: 100000, income_total_fen: 250000, expense_total_fen: 50000, closing_balance_fen: 300000 } }]));
  wx.__route('GET', '/api/v1/communities/3/emergency-spending', () => page([{ id: 1, amount_fen: 1250000, reason: '电梯曳引机故障', contractor: '某电梯公司',
    location: '3 号楼', spent_on: '2026-11-01', street_office_reference: 'JD-2026-001', street_office_confirmed_on: '2026-11-02', photo_ids: [] }]));
  standard(wx);
  const revenue = await openPage('pages/revenue/index', { cid: '3' });
  assert.match(text(revenue, '.statement'), /2026-H1.*第 2 版.*期初余额.*¥1,000\.00.*收入合计.*¥2,500\.00.*支出合计.*¥500\.00.*¥3,000\.00/);
  const emergency = await openPage('pages/emergency/index', { cid: '3' });
  assert.match(text(emergency, '.emergency-record'), /¥12,500\.00.*电梯曳引机故障.*JD-2026-001/);
  const empty = installWx();
  empty.__route('GET', '/api/v1/communities/3/emergency-spending', () => page([]));
  standard(empty);
  const none = await openPage('pages/emergency/index', { cid: '3' });
  assert.equal(text(none, '#state'), '暂无应急使用记录');
});
