'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { makeEnv, Formula } = require('./fakes');

const HEADER = ['submitted_at', 'response_id', 'survey_id', 'unit_code', 'respondent_type',
  'respondent_key', 'device_id', 'ticket', 'started_at', 'channel', 'entered_by', 'entry',
  'q1', 'q2', 'q3', 'kenh', 'gop_y', 'comment'];

function answer(extra = {}) {
  return Object.assign({
    survey_id: 'thu-nghiem', unit_code: 'X01', respondent_type: 'individual', respondent_key: '',
    response_id: 'b7c1d2e3-0000-4000-8000-00000000000' + (extra.n || 1), device_id: 'dev-0001-aaaa',
    ticket: '', started_at: '2024-06-12T09:00:00+07:00', q1: '5', q2: '4', q3: '3',
    kenh: 'Người quen', gop_y: 'Cán bộ nhiệt tình', comment: '',
  }, extra.fields || {});
}

function rowOf(env, index = 1) {
  const table = env.sheet().table();
  const row = {};
  table[0].forEach((name, i) => { row[name] = table[index][i] === undefined ? '' : table[index][i]; });
  return row;
}

function near(iso) {
  assert.match(iso, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/);
  const ms = Date.parse(iso);
  assert.ok(Math.abs(ms - Date.now()) < 5000, `${iso} is not now`);
}

test('a JSON answer becomes one row under the contract header', () => {
  const env = makeEnv();
  const out = env.post(answer());
  assert.equal(out.mime, 'application/json');
  assert.deepEqual({ ok: out.ok, response_id: out.response_id }, { ok: true, response_id: answer().response_id });
  const table = env.sheet().table();
  assert.deepEqual(table[0], HEADER);
  assert.equal(table.length, 2);
  const row = rowOf(env);
  near(row.submitted_at);
  assert.equal(row.response_id, answer().response_id);
  assert.equal(row.unit_code, 'X01');
  assert.deepEqual([row.q1, row.q2, row.q3], [5, 4, 3]); // scale answers are numbers
  assert.equal(row.kenh, 'Người quen');
  assert.equal(row.started_at, '2024-06-12T09:00:00+07:00'); // text, not turned into a date
  assert.equal(env.sheet().frozenRows, 1);
  assert.equal(env.lock.held, false);
  assert.equal(env.lock.releases, 1);
  assert.ok(env.lock.waits[0] > 0, 'tryLock waits a while for another writer');
  assert.ok(env.flushes >= 1, 'written before the lock is released');
});

test('a plain form POST gets a Vietnamese thank-you page and one row', () => {
  const env = makeEnv();
  const out = env.post(answer(), { form: true });
  assert.equal(out.title, 'Cảm ơn ông/bà!');
  assert.match(out.html, /<html lang="vi">/);
  assert.match(out.html, /đã được ghi nhận/);
  assert.equal(out.meta.viewport, 'width=device-width, initial-scale=1');
  assert.equal(env.sheet().table().length, 2);
  assert.equal(rowOf(env).gop_y, 'Cán bộ nhiệt tình');
});

test('the collector fills what the page may leave out', () => {
  const env = makeEnv();
  const out = env.post(answer({ fields: { survey_id: '', unit_code: ' x02 ', response_id: '', q2: '', q3: '0',
    respondent_type: '', gop_y: 'Cafe\u0301 ' } }));
  assert.equal(out.ok, true);
  assert.match(out.response_id, /^[0-9a-f-]{36}$/);
  const row = rowOf(env);
  assert.equal(row.survey_id, 'thu-nghiem');
  assert.equal(row.unit_code, 'X02');
  assert.equal(row.response_id, out.response_id);
  assert.deepEqual([row.q2, row.q3], ['', 0]); // empty and 0 both mean "no opinion"
  assert.equal(row.gop_y, 'Café'); // NFC, trimmed
});

test('an existing header keeps its order; a new question column is added at the end', () => {
  const header = ['response_id', 'submitted_at', 'survey_id', 'unit_code', 'respondent_type', 'respondent_key',
    'device_id', 'ticket', 'started_at', 'q3', 'q2', 'q1', 'comment', 'ghi_chu_noi_bo'];
  const env = makeEnv({ tabs: { Responses: [header] } });
  env.post(answer());
  const table = env.sheet().table();
  assert.deepEqual(table[0], header.concat(['channel', 'entered_by', 'entry', 'kenh', 'gop_y']));
  const row = rowOf(env);
  assert.deepEqual([row.q3, row.q2, row.q1, row.kenh], [3, 4, 5, 'Người quen']);
  assert.equal(row.ghi_chu_noi_bo, '');
  assert.equal(table[1][0], answer().response_id);
});

test('a paper keying and an assisted answer keep channel, entered_by and entry (contract v3)', () => {
  const env = makeEnv();
  assert.equal(env.post(answer({ fields: { channel: 'paper', entered_by: 'nv-01', entry: '2' } })).ok, true);
  assert.equal(env.post(answer({ n: 2, fields: { channel: 'assisted', entered_by: 'CCB_7' } })).ok, true);
  assert.deepEqual([rowOf(env, 1).channel, rowOf(env, 1).entered_by, rowOf(env, 1).entry], ['paper', 'nv-01', '2']);
  assert.deepEqual([rowOf(env, 2).channel, rowOf(env, 2).entered_by, rowOf(env, 2).entry], ['assisted', 'CCB_7', '']);
  const long = env.post(answer({ n: 3, fields: { channel: 'paper', entered_by: 'x'.repeat(21), entry: '1' } }));
  assert.equal(long.ok, false);
  assert.equal(env.sheet().table().length, 3);
});

test('a survey wider than a new tab\'s 26 columns gets the columns it needs', () => {
  const many = Array.from({ length: 30 }, (_, i) => `c${i + 1}`);
  const env = makeEnv({ props: { SURVEY_ID: 'thu-nghiem', QUESTIONS: many.join(','), SCALE_QUESTIONS: many.join(',') } });
  const fields = answer({ fields: { c30: '4' } });
  assert.equal(env.post(fields).ok, true);
  const table = env.sheet().table();
  assert.equal(table[0].length, 12 + 30 + 1);
  assert.equal(rowOf(env).c30, 4);
  env.props.QUESTIONS = env.props.SCALE_QUESTIONS = many.concat(['c31', 'c32']).join(',');
  assert.equal(env.post(answer({ n: 2, fields: { c32: '2' } })).ok, true);
  assert.deepEqual(env.sheet().table()[0].slice(-3), ['comment', 'c31', 'c32']);
  assert.equal(rowOf(env, 2).c32, 2);
});

const refusals = [
  ['wrong survey', { survey_id: 'khac-2024' }, 'wrong_survey', /không thuộc cuộc khảo sát/],
  ['unknown unit', { unit_code: 'Z99' }, 'unknown_unit', /Mã đơn vị/],
  ['no unit', { unit_code: '' }, 'unknown_unit', /Mã đơn vị/],
  ['respondent type', { respondent_type: 'robot' }, 'bad_respondent_type', /Tư cách/],
  ['answer above the scale', { q1: '6' }, 'bad_answer', /câu q1 .*từ 1 đến 5/],
  ['negative answer', { q2: '-1' }, 'bad_answer', /câu q2/],
  ['fraction', { q3: '4.5' }, 'bad_answer', /câu q3/],
  ['words for a number', { q1: 'năm' }, 'bad_answer', /câu q1/],
  ['formula as an answer', { q1: '=5' }, 'bad_answer', /câu q1/],
  ['response id', { response_id: 'x' }, 'bad_response_id', /Mã phiếu/],
  ['response id characters', { response_id: '=HYPERLINK("http://x")' }, 'bad_response_id', /Mã phiếu/],
  ['long comment', { comment: 'a'.repeat(2001) }, 'too_long', /"comment" quá dài \(tối đa 2000/],
  ['long text answer', { gop_y: 'b'.repeat(2001) }, 'too_long', /"gop_y"/],
  ['long device id', { device_id: 'd'.repeat(101) }, 'too_long', /"device_id"/],
  ['long key', { respondent_key: 'k'.repeat(501) }, 'too_long', /"respondent_key"/],
  ['long started_at', { started_at: 's'.repeat(41) }, 'too_long', /"started_at"/],
];
for (const [name, fields, code, message] of refusals) {
  test(`refused: ${name}`, () => {
    const env = makeEnv();
    const out = env.post(answer({ fields }));
    assert.equal(out.ok, false);
    assert.equal(out.code, code);
    assert.equal(out.retry, false);
    assert.match(out.error, message);
    assert.equal(env.sheet(), null, 'nothing written, not even the header');
    assert.equal(env.lock.held, false);
    const page = makeEnv().post(answer({ fields }), { form: true });
    assert.equal(page.title, 'Chưa gửi được phiếu');
    assert.match(page.html, /kiểm tra rồi gửi lại/);
  });
}

test('refused: a body over MAX_BODY, unreadable JSON, JSON that is not an object', () => {
  const env = makeEnv({ props: { SURVEY_ID: 'thu-nghiem', QUESTIONS: 'q1', MAX_BODY: '500' } });
  const big = env.post(answer({ fields: { comment: 'x'.repeat(600) } }));
  assert.deepEqual([big.ok, big.code], [false, 'too_large']);
  assert.match(big.error, /quá lớn/);
  for (const raw of ['{"survey_id": ', '[1, 2]', 'null', '"text"', '']) {
    const out = env.post(null, { raw });
    assert.deepEqual([out.ok, out.code], [false, 'bad_body'], raw);
  }
  assert.equal(env.sheet(), null);
});

test('refused: a collector without SURVEY_ID or QUESTIONS says so, and doGet shows it', () => {
  const env = makeEnv({ props: { QUESTIONS: 'q1' } });
  const out = env.post(answer());
  assert.deepEqual([out.ok, out.code], [false, 'not_configured']);
  assert.match(out.error, /chưa được cài đặt/);
  assert.ok(env.logs.some((l) => /SURVEY_ID and QUESTIONS/.test(l)));
  assert.deepEqual(env.get(), { ok: true, service: 'hailong collector', version: '1', survey_id: '',
    configured: false, scale_checked: false, problems: [] });
  assert.deepEqual(makeEnv().get(), { ok: true, service: 'hailong collector', version: '1',
    survey_id: 'thu-nghiem', configured: true, scale_checked: true, problems: [] });
});

test('settings from a Config tab; a Script Property wins; units from the UNITS setting', () => {
  const env = makeEnv({
    props: { SCALE_MAX: '7' },
    tabs: { Config: [['key', 'value'], ['SURVEY_ID', 'thu-nghiem'], ['QUESTIONS', 'q1, q2'],
      ['SCALE_QUESTIONS', 'q1 q2'], ['SCALE_MAX', '4'], ['UNITS', 'A1;B2']], Units: [] },
  });
  assert.equal(env.post(answer({ fields: { unit_code: 'a1', q1: '7' } })).ok, true);
  assert.equal(rowOf(env).unit_code, 'A1');
  assert.equal(env.post(answer({ n: 2, fields: { unit_code: 'X01' } })).code, 'unknown_unit');
  assert.equal(env.post(answer({ n: 3, fields: { unit_code: 'B2', q2: '8' } })).code, 'bad_answer');
  assert.deepEqual(env.sheet().table()[0], HEADER.slice(0, 12).concat(['q1', 'q2', 'comment']));
});

test('SCALE_QUESTIONS unset: no choice or text answer is refused, every answer is kept as typed', () => {
  const env = makeEnv({ props: { SURVEY_ID: 'thu-nghiem', QUESTIONS: 'q1,q2,q3,kenh,gop_y' } });
  const out = env.post(answer({ fields: { kenh: 'Qua cổng dịch vụ công', gop_y: 'Nhanh, gọn' } }));
  assert.equal(out.ok, true, JSON.stringify(out));
  let row = rowOf(env);
  assert.equal(row.kenh, 'Qua cổng dịch vụ công');
  assert.equal(row.gop_y, 'Nhanh, gọn');
  assert.deepEqual([row.q1, row.q2, row.q3], ['5', '4', '3']); // text: the pull reads "5" either way
  // not checked here: an odd scale answer is kept (hailong score quarantines it with a reason)
  assert.equal(env.post(answer({ n: 2, fields: { q1: '9', q2: '=1+1' } })).ok, true);
  row = rowOf(env, 2);
  assert.equal(row.q1, '9');
  assert.equal(row.q2, '=1+1'); // still text behind the quote prefix, never a formula
  assert.equal(typeof env.sheet().cells[2][HEADER.indexOf('q2')], 'string');
  assert.ok(env.logs.some((l) => /SCALE_QUESTIONS is not set/.test(l)));
  assert.equal(env.get().scale_checked, false);
  // lengths are still checked
  assert.equal(env.post(answer({ n: 3, fields: { kenh: 'k'.repeat(2001) } })).code, 'too_long');
});

test('a survey like sipas-xa-2020: the choice question is answered, the scale questions are checked', () => {
  const props = { SURVEY_ID: 'sipas-xa-2020', QUESTIONS: 'tc1,tc2,linh_vuc,comment_x',
    SCALE_QUESTIONS: 'tc1,tc2' };
  const env = makeEnv({ props });
  const base = { survey_id: 'sipas-xa-2020', unit_code: 'X01', response_id: 'sipas-0000-0001',
    tc1: '4', tc2: '0', linh_vuc: 'Đất đai', comment_x: '' };
  const out = env.post(base);
  assert.equal(out.ok, true, JSON.stringify(out));
  const table = env.sheet().table();
  const row = Object.fromEntries(table[0].map((name, i) => [name, table[1][i]]));
  assert.deepEqual([row.tc1, row.tc2, row.linh_vuc], [4, 0, 'Đất đai']);
  const bad = env.post(Object.assign({}, base, { response_id: 'sipas-0000-0002', tc2: '6' }));
  assert.deepEqual([bad.ok, bad.code], [false, 'bad_answer']);
  assert.ok(!env.logs.some((l) => /SCALE_QUESTIONS is not set/.test(l)));
});

test('no unit codes anywhere: every answer is refused and the log says what to fill in', () => {
  const env = makeEnv({ tabs: { Units: [] } });
  assert.equal(env.post(answer()).code, 'unknown_unit');
  assert.ok(env.logs.some((l) => /fill the Units tab/.test(l)));
});

test('units from the Units tab: the code column wherever it stands, or column A without a header', () => {
  const env = makeEnv({ tabs: { Units: [['name', 'CODE'], ['Xã A', 'XA-1']] } });
  assert.equal(env.post(answer({ fields: { unit_code: 'xa-1' } })).ok, true);
  assert.equal(rowOf(env).unit_code, 'XA-1');
  const bare = makeEnv({ tabs: { Units: [['P01'], ['P02']] } });
  assert.equal(bare.post(answer({ fields: { unit_code: 'P02' } })).ok, true);
});

test('formula injection: what a citizen types is stored as text, never as a formula', () => {
  const env = makeEnv();
  const nasty = ['=HYPERLINK("http://evil.example","bấm")', '+84912345678', '-1+2', '@SUM(A1:A2)',
    '\t=1+1', '\r=1+1', "'=quoted", '0912345678', '1/2'];
  nasty.forEach((text, i) => {
    const out = env.post(answer({ n: i + 2, fields: { comment: 'x' + i, gop_y: text, kenh: text,
      ticket: text.slice(0, 40), respondent_key: text, device_id: 'dev-' + i } }));
    assert.equal(out.ok, true, text);
  });
  const sheet = env.sheet();
  for (const row of sheet.cells) {
    for (const cell of row) { assert.ok(!(cell instanceof Formula), 'a formula reached the sheet'); }
  }
  nasty.forEach((text, i) => {
    const row = rowOf(env, i + 1);
    const expected = text.trim();
    assert.equal(row.gop_y, expected);
    assert.equal(row.kenh, expected);
    assert.equal(row.respondent_key, expected);
    assert.equal(typeof row.gop_y, 'string', `${text} became a ${typeof row.gop_y}`);
  });
  const appended = sheet.writes.filter((w) => w.kind === 'appendRow');
  for (const w of appended) {
    for (const v of w.values) { assert.ok(typeof v === 'number' || v === '' || v.startsWith("'"), `unguarded ${v}`); }
  }
  // the control: the same text written without the guard would have become a formula / number
  sheet.appendRow(['=HYPERLINK("http://evil.example")', '+84912345678']);
  assert.ok(sheet.cells[sheet.cells.length - 1][0] instanceof Formula);
  assert.equal(sheet.cells[sheet.cells.length - 1][1], 84912345678);
});

test('a leading tab or line break is kept inside the text, behind the quote prefix', () => {
  const env = makeEnv();
  env.post(answer({ fields: { comment: 'ý kiến\r\n=1+1' } }));
  assert.equal(rowOf(env).comment, 'ý kiến\r\n=1+1');
  const written = env.sheet().writes.find((w) => w.kind === 'appendRow').values;
  assert.equal(written[HEADER.indexOf('comment')], "'ý kiến\r\n=1+1");
});

test('a resubmission with the same response_id is acknowledged without a second row', () => {
  const env = makeEnv();
  const first = env.post(answer());
  const again = env.post(answer({ fields: { q1: '1' } }));
  assert.deepEqual([again.ok, again.response_id, again.duplicate], [true, first.response_id, true]);
  assert.equal(env.sheet().table().length, 2);
  assert.equal(rowOf(env).q1, 5);
  const form = env.post(answer(), { form: true });
  assert.equal(form.title, 'Cảm ơn ông/bà!');
  assert.equal(env.sheet().table().length, 2);
  assert.equal(env.lock.held, false);
});

test('the resubmission check looks only at the last rows (the pull dedupes the rest)', () => {
  const env = makeEnv();
  env.post(answer({ n: 1 }));
  const sheet = env.sheet();
  for (let i = 0; i < 300; i++) { sheet.appendRow(['2024-06-12T10:00:00+07:00', `filler-${String(i).padStart(4, '0')}`]); }
  const late = env.post(answer({ n: 1 }));
  assert.equal(late.duplicate, undefined);
  assert.equal(sheet.table().filter((r) => r[1] === answer().response_id).length, 2);
});

test('concurrent submissions: one arriving while another writes waits, then is told to retry; no row is lost', () => {
  const env = makeEnv();
  env.post(answer({ n: 1 }));
  const sheet = env.sheet();
  let inner = null;
  sheet.beforeAppend = () => { inner = env.post(answer({ n: 3 })); }; // B arrives while A holds the lock
  const outer = env.post(answer({ n: 2 }));
  assert.equal(outer.ok, true);
  assert.deepEqual([inner.ok, inner.code, inner.retry], [false, 'busy', true]);
  assert.match(inner.error, /đang bận/);
  assert.equal(env.lock.waited, 20000);
  assert.equal(env.lock.held, false);
  const retried = env.post(answer({ n: 3 }));
  assert.equal(retried.ok, true);
  const ids = sheet.table().slice(1).map((r) => r[1]);
  assert.deepEqual(ids, [1, 2, 3].map((n) => answer({ n }).response_id));
});

test('interleaved resubmissions of one response: the lock keeps it to one row', () => {
  const run = (exclusive) => {
    const env = makeEnv();
    env.lock.exclusive = exclusive;
    env.post(answer({ n: 9 }));
    env.sheet().beforeAppend = () => {
      const other = env.post(answer({ n: 5 })); // the same response, sent again from a second tab
      if (!other.ok) { env.sheet().beforeAppend = null; }
    };
    env.post(answer({ n: 5 }));
    env.post(answer({ n: 5 })); // the retry after "busy"
    return env.sheet().table().filter((r) => r[1] === answer({ n: 5 }).response_id).length;
  };
  assert.equal(run(true), 1);
  assert.equal(run(false), 2, 'control: without an exclusive lock the check-then-append race doubles the row');
});

test('many submissions in turn: every row once, in order, under one header', () => {
  const env = makeEnv();
  const ids = [];
  for (let i = 0; i < 250; i++) {
    const out = env.post(answer({ fields: { response_id: `id-${String(i).padStart(6, '0')}`, unit_code: ['X01', 'X02', 'X03'][i % 3] } }));
    assert.equal(out.ok, true);
    ids.push(out.response_id);
  }
  const table = env.sheet().table();
  assert.deepEqual(table[0], HEADER);
  assert.deepEqual(table.slice(1).map((r) => r[1]), ids);
  const stamps = table.slice(1).map((r) => r[0]);
  assert.deepEqual(stamps, stamps.slice().sort());
});

test('lock timeout: another execution holds the lock too long, the answer is "busy, retry"', () => {
  const env = makeEnv();
  env.lock.held = true; // held by another execution
  const out = env.post(answer());
  assert.deepEqual([out.ok, out.code, out.retry], [false, 'busy', true]);
  assert.equal(env.sheet(), null);
  assert.equal(env.lock.releases, 0, 'a lock it does not hold is not released');
  const page = env.post(answer(), { form: true });
  assert.match(page.html, /đang bận/);
  assert.match(page.html, /bấm &quot;Gửi ý kiến&quot; lần nữa/);
});

test('a failed write answers "retry" and releases the lock', () => {
  const env = makeEnv();
  env.post(answer({ n: 1 }));
  env.sheet().failAppend = 'Service Spreadsheets failed while accessing document';
  const out = env.post(answer({ n: 2 }));
  assert.deepEqual([out.ok, out.code, out.retry], [false, 'failed', true]);
  assert.equal(env.lock.held, false);
  assert.ok(env.logs.some((l) => /Service Spreadsheets failed/.test(l)));
  env.sheet().failAppend = null;
  assert.equal(env.post(answer({ n: 2 })).ok, true);
  assert.equal(env.sheet().table().length, 3);
});

test('pages never echo what was typed, and escape what they show', () => {
  const env = makeEnv();
  const page = env.post(answer({ fields: { q1: '<script>alert(1)</script>' } }), { form: true });
  assert.ok(!page.html.includes('<script>'));
  assert.equal(env.context.escape_('<a href="x">&\''), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
});

// -- the survey's dates (WINDOW_START, WINDOW_END) -------------------------------------------------
function vnToday(days = 0) {
  const d = new Date(Date.now() + days * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(d); // YYYY-MM-DD
}

function windowEnv(start, end) {
  return makeEnv({ props: Object.assign({}, require('./fakes').DEFAULT_PROPS,
    { WINDOW_START: start, WINDOW_END: end }) });
}

test('an answer after the survey ended is refused with the page\'s message, nothing written', () => {
  const env = windowEnv(vnToday(-10), vnToday(-1));
  const out = env.post(answer());
  assert.equal(out.ok, false);
  assert.equal(out.code, 'closed');
  assert.equal(out.retry, false);
  const end = vnToday(-1).split('-').reverse().join('/');
  assert.equal(out.error, `Đợt khảo sát đã kết thúc ngày ${end}. Cảm ơn ông/bà đã quan tâm.`);
  assert.equal(env.sheet(), null); // no tab, no row
  const page = env.post(answer(), { form: true });
  assert.equal(page.title, 'Đợt khảo sát không nhận phiếu');
  assert.match(page.html, /đã kết thúc ngày/);
  assert.doesNotMatch(page.html, /ghi nhận/);
});

test('an answer before the survey starts is refused', () => {
  const env = windowEnv(vnToday(2), vnToday(5));
  const out = env.post(answer());
  assert.equal(out.code, 'closed');
  assert.match(out.error, /^Đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày /);
});

test('inside the window, on its first and last day, answers are taken', () => {
  for (const [start, end] of [[vnToday(0), vnToday(3)], [vnToday(-3), vnToday(0)]]) {
    const env = windowEnv(start, end);
    assert.equal(env.post(answer()).ok, true);
    assert.equal(env.sheet().table().length, 2);
  }
});

test('a staff trial with ?xem-thu is written for score to quarantine', () => {
  const env = windowEnv(vnToday(-10), vnToday(-1));
  const out = env.post(answer({ fields: { xem_thu: '1' } }));
  assert.equal(out.ok, true);
  assert.equal(env.sheet().table().length, 2);
  assert.ok(rowOf(env).submitted_at.slice(0, 10) > vnToday(-1)); // outside the window: quarantined
});

test('an answer saved while the survey was open and sent later is kept; one started late is not', () => {
  const env = windowEnv(vnToday(-10), vnToday(-1));
  const saved = new Date(Date.now() - 2 * 86400000).toISOString(); // started two days ago
  assert.equal(env.post(answer({ fields: { started_at: saved } })).ok, true);
  const late = env.post(answer({ n: 2, fields: { started_at: new Date().toISOString() } }));
  assert.equal(late.code, 'closed');
  assert.equal(env.sheet().table().length, 2);
});

test('without WINDOW_START and WINDOW_END there is no date check', () => {
  const env = makeEnv();
  assert.equal(env.post(answer()).ok, true);
});

test('window dates in the Config tab work when Sheets has turned them into dates', () => {
  const end = vnToday(-1);
  const [y, m, d] = end.split('-').map(Number);
  // a date cell reads back as a Date at local midnight of the spreadsheet's zone (UTC+7)
  const cell = new Date(Date.UTC(y, m - 1, d) - 7 * 3600000);
  const env = makeEnv({ tabs: { Config: [['key', 'value'], ['WINDOW_START', new Date(cell - 9 * 86400000)],
    ['WINDOW_END', cell]] } });
  const out = env.post(answer());
  assert.equal(out.code, 'closed');
  assert.match(out.error, new RegExp(end.split('-').reverse().join('/')));
});

// -- settings that cannot be read stop the collector, never turn a limit off ----------------------
const UNREADABLE = ['abc', '20k', '-5', '0', '1e3', '12.5', '٣٠٠', ' '];
for (const key of ['MAX_BODY', 'MAX_TEXT']) {
  for (const value of UNREADABLE) {
    test(`${key} = ${JSON.stringify(value)} refuses every answer as not configured and doGet says why`, () => {
      const props = Object.assign({}, require('./fakes').DEFAULT_PROPS, { [key]: value });
      const env = makeEnv({ props });
      if (!value.trim()) { // an empty setting takes the default
        assert.equal(env.post(answer()).ok, true);
        return;
      }
      const out = env.post(answer({ fields: { comment: 'x'.repeat(100000) } }));
      assert.deepEqual([out.ok, out.code, out.retry], [false, 'not_configured', false]);
      assert.equal(env.sheet(), null);
      const status = env.get();
      assert.equal(status.configured, false);
      assert.equal(status.problems.length, 1);
      assert.ok(status.problems[0].startsWith(key + ": '" + value + "'"), status.problems[0]);
      assert.ok(env.logs.some((l) => l.includes(key) && l.includes('Config tab')));
    });
  }
}

test('a scale that cannot be read, or runs backwards, or an odd time zone, stops the collector too', () => {
  const base = require('./fakes').DEFAULT_PROPS;
  for (const [change, word] of [[{ SCALE_MIN: 'một' }, 'SCALE_MIN'], [{ SCALE_MAX: '5.5' }, 'SCALE_MAX'],
    [{ SCALE_MIN: '5', SCALE_MAX: '3' }, 'must be below'], [{ TIMEZONE: 'giờ Hà Nội' }, 'TIMEZONE']]) {
    const env = makeEnv({ props: Object.assign({}, base, change) });
    assert.equal(env.post(answer()).code, 'not_configured', word);
    assert.ok(env.get().problems.some((p) => p.includes(word)), word);
    assert.equal(env.sheet(), null);
  }
  const fine = makeEnv({ props: Object.assign({}, base, { MAX_BODY: '100000', MAX_TEXT: '10' }) });
  assert.equal(fine.post(answer({ fields: { comment: 'x'.repeat(11) } })).code, 'too_long');
});

// -- a submission with no answer ------------------------------------------------------------------
const NOTHING = { q1: '', q2: '', q3: '', kenh: '', gop_y: '' };
const EMPTY_WORDS = 'Ông/bà chưa trả lời câu nào. Xin chọn ít nhất một câu trả lời rồi bấm "Gửi ý kiến".';

for (const [name, fields] of [['nothing at all', NOTHING], ['only a comment', { ...NOTHING, comment: 'chỉ góp ý' }],
  ['0 on every scale question', { ...NOTHING, q1: '0', q2: '0', q3: '0' }],
  ['blanks', { ...NOTHING, kenh: '   ', gop_y: ' ' }]]) {
  test(`a submission answering no question (${name}) is refused with the page's words, no row`, () => {
    const env = makeEnv();
    const out = env.post(answer({ fields }));
    assert.deepEqual([out.ok, out.code, out.error, out.retry], [false, 'empty', EMPTY_WORDS, false]);
    const page = env.post(answer({ fields }), { form: true });
    assert.equal(page.title, 'Chưa gửi được phiếu');
    assert.ok(page.html.includes('Ông/bà chưa trả lời câu nào.'));
    assert.equal(env.sheet(), null);
  });
}

test('any one answer is enough, a choice or text one included', () => {
  const env = makeEnv();
  [{ kenh: 'Khác' }, { gop_y: 'ý kiến' }, { q2: '1' }].forEach((one, i) => {
    assert.equal(env.post(answer({ n: i + 1, fields: { ...NOTHING, ...one } })).ok, true);
  });
  assert.equal(env.sheet().table().length, 4);
});

test('line breaks of every kind are kept; an unpaired surrogate becomes U+FFFD, a pair stays', () => {
  const env = makeEnv();
  const comment = 'dòng một\rdòng hai\r\nba\nbốn \u2028 năm \ud800 sáu \udfff 😀';
  assert.equal(env.post(answer({ fields: { comment } })).ok, true);
  assert.equal(rowOf(env).comment, 'dòng một\rdòng hai\r\nba\nbốn \u2028 năm \ufffd sáu \ufffd 😀');
});
