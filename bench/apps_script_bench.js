'use strict';
/*
 * Appends per second of the collector (collector/apps_script/Code.gs) under the node fakes of
 * SpreadsheetApp and LockService (collector/apps_script/tests/fakes.js). THE FAKE IS IN MEMORY:
 * the figure is the script's own cost per submission (checks, header, duplicate search of the
 * last rows, building the row), an upper bound; on Google each appendRow + flush also waits
 * for the spreadsheet, which the capacity figures (`hailong capacity`) assume separately.
 *
 *     node bench/apps_script_bench.js [submissions]
 */
const { makeEnv } = require('../collector/apps_script/tests/fakes');

const n = Number(process.argv[2] || 20000);
const env = makeEnv();
const started = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const out = env.post({
    survey_id: 'thu-nghiem', unit_code: 'X0' + (1 + (i % 3)), respondent_type: 'individual',
    respondent_key: '', response_id: 'bench-' + String(i).padStart(10, '0'),
    device_id: 'dev-' + i, ticket: '', started_at: '2025-06-12T09:00:00+07:00',
    q1: String(1 + (i % 5)), q2: '4', q3: '5', kenh: 'Người quen', gop_y: '', comment: '',
  });
  if (!out.ok) { throw new Error('refused: ' + JSON.stringify(out)); }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const rows = env.sheet().table().length - 1;
console.log(`Apps Script collector under the node fakes (in memory, NOT Google): ${n} submissions, ` +
  `${rows} rows, ${seconds.toFixed(2)} s: ${(n / seconds).toFixed(0)} appends/s ` +
  `(${(1000 * seconds / n).toFixed(3)} ms of script work each)`);
