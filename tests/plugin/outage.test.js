// SPDX-License-Identifier: MIT
// The plugin inside a Nightscout-like host while its MongoDB is down or
// hangs; run by tests/plugin_outage.sh under `node --test` on a private
// MongoDB-wire server that this file stops, freezes and restarts.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { execFile, execFileSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');

const PLUGIN_DIR = process.env.NSC_PLUGIN_DIR;
const PROBE = process.env.NSC_MONGO_PROBE;
const MONGO = process.env.NSC_TEST_MONGODB_URI;
const CTL = process.env.NSC_TEST_MONGODB_CTL;
const DATA = process.env.NSC_TEST_MONGODB_DATA;
assert.ok(PLUGIN_DIR && PROBE && MONGO && CTL && DATA, 'run by tests/plugin_outage.sh');

const plugin = require(path.join(PLUGIN_DIR, 'index.js'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const OUTAGE_MS = Number(process.env.NSC_PLUGIN_OUTAGE_MS || 60000);

function dbUri(name) {
  return `${MONGO.replace(/\?.*$/, '').replace(/\/+$/, '')}/nsc_outage_${process.pid}_${name}`;
}

function probe(uri, collection, cadenceMs) {
  return new Promise((resolve, reject) => {
    execFile(PROBE, [uri, collection, String(cadenceMs)], (err, stdout, stderr) => {
      if (err) return reject(new Error(`probe failed: ${stderr || err.message}`));
      const facts = {};
      for (const line of stdout.split('\n')) {
        const m = /^(\w+)=(-?\d+(?:\.\d+)?)$/.exec(line);
        if (m) facts[m[1]] = Number(m[2]);
      }
      resolve(facts);
    });
  });
}

// The server's control script, without the sanitizer runtime an ASan build preloads into Node
// (preloaded into ps, the script's process check, it deadlocks).
const plainEnv = Object.fromEntries(Object.entries(process.env)
  .filter(([k]) => k !== 'LD_PRELOAD' && k !== 'ASAN_OPTIONS'));
const server = (verb) => execFileSync('sh', [CTL, verb], { stdio: ['ignore', 'pipe', 'inherit'], env: plainEnv });
const serverPid = () => Number(fs.readFileSync(path.join(path.dirname(DATA), 'pid'), 'utf8'));

// Every line the plugin logs, with the time it arrived.
function captureLogger() {
  const lines = [];
  const at = (level) => (s) => lines.push({ level, text: String(s), t: Date.now() });
  plugin.logger = { log: at('log'), warn: at('warn'), error: at('error') };
  return lines;
}

function nightscout(uri) {
  const bus = new EventEmitter();
  const received = [];
  bus.on('data-received', () => received.push(Date.now()));
  const env = {
    extendedSettings: { connect: { source: 'simulator', simulatorInterval: 1, lookbackHours: 1 } },
    storageURI: uri,
  };
  return { env, ctx: { bus, bootErrors: [], settings: {} }, received };
}

async function waitFor(what, cond, ms) {
  const until = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > until) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(250);
  }
}

test('MongoDB down for a minute: a warning a minute at most, little CPU, every reading stored once after', async (t) => {
  const uri = dbUri('down');
  const lines = captureLogger();
  const { env, ctx, received } = nightscout(uri);
  const handle = plugin(env, ctx);
  assert.ok(handle, 'the plugin starts');
  t.after(() => { ctx.bus.emit('teardown'); server('--start'); });
  ctx.bus.emit('data-processed', {});
  await waitFor('the first batch', () => received.length >= 1, 60000);

  server('--stop');
  const downAt = Date.now();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await sleep(OUTAGE_MS);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const during = lines.filter((l) => l.t >= downAt);
  const warnings = during.filter((l) => l.level !== 'log');
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`# outage of ${Math.round(wallMs)} ms: ${during.length} log lines ` +
    `(${warnings.length} warnings or errors), ${cpuMs.toFixed(0)} ms CPU ` +
    `(${(100 * cpuMs / wallMs).toFixed(2)} % of one core)`);
  for (const l of during) console.log(`#   ${l.level}: ${l.text.slice(0, 160)}`);
  // The defect this guards: 18,000 to 110,000 lines a second.
  assert.ok(warnings.length <= Math.ceil(wallMs / 60000) + 1,
    `${warnings.length} warnings in ${Math.round(wallMs / 1000)} s`);
  assert.ok(during.length <= 20, `${during.length} log lines during the outage`);
  assert.ok(cpuMs < 0.05 * wallMs, `${cpuMs.toFixed(0)} ms of CPU in ${Math.round(wallMs)} ms`);

  server('--start');
  const backAt = Date.now();
  // The next poll (at most the failure backoff, 1 minute plus jitter, later) fetches the gap.
  await waitFor('the readings of the outage', async () => {
    const f = await probe(uri, 'entries', 1000);
    return f.max_date >= backAt - 1000;
  }, 150000);
  const f = await probe(uri, 'entries', 1000);
  assert.strictEqual(f.count, f.distinct, `every reading once (${f.count} documents, ${f.distinct} distinct)`);
  assert.strictEqual(f.gaps, 0, 'no reading missing on the 1-second grid');
  assert.ok(f.min_date <= downAt - 3600 * 1000 + 5000, 'the hour before the outage is there');
  assert.ok(handle.status().pollsOk >= 2, 'polls succeed again');
});

test('teardown while MongoDB hangs: Node is never blocked a second, and a new start works', async (t) => {
  const uri = dbUri('hang');
  captureLogger();
  const { env, ctx, received } = nightscout(uri);
  plugin(env, ctx);
  ctx.bus.emit('data-processed', {});
  await waitFor('the first batch', () => received.length >= 1, 60000);

  const pid = serverPid();
  process.kill(pid, 'SIGSTOP'); // accepts connections, answers nothing
  t.after(() => { try { process.kill(pid, 'SIGCONT'); } catch (e) { /* gone */ } });
  // A poll a second: by now a write waits for a server that does not answer.
  await sleep(3000);
  // teardown runs synchronously on Node's thread: its duration is how long the loop is blocked.
  const t0 = performance.now();
  ctx.bus.emit('teardown');
  const stopMs = performance.now() - t0;
  console.log(`# teardown with MongoDB hanging took ${stopMs.toFixed(1)} ms`);
  assert.ok(stopMs < 1000, `teardown took ${stopMs.toFixed(0)} ms`);

  process.kill(pid, 'SIGCONT');
  // The engine left behind finishes its write; a new plugin on the same database carries on.
  const again = nightscout(uri);
  const handle = plugin(again.env, again.ctx);
  again.ctx.bus.emit('data-processed', {});
  t.after(() => again.ctx.bus.emit('teardown'));
  await waitFor('a batch after the restart', () => again.received.length >= 1, 120000);
  const f = await probe(uri, 'entries', 1000);
  assert.strictEqual(f.count, f.distinct, `every reading once (${f.count} documents, ${f.distinct} distinct)`);
  assert.ok(handle.status().running, 'the new engine runs');
});
