// SPDX-License-Identifier: MIT
// The built nightscout-connect package (plugin/package/) loaded as
// Nightscout loads it, with a Nightscout-like ctx, against a MongoDB-wire
// server; run by tests/plugin.sh under `node --test`.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { execFile } = require('node:child_process');
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');

const PLUGIN_DIR = process.env.NSC_PLUGIN_DIR;
const PROBE = process.env.NSC_MONGO_PROBE;
const MONGO = process.env.NSC_TEST_MONGODB_URI;
assert.ok(PLUGIN_DIR && PROBE && MONGO, 'run by tests/plugin.sh (NSC_PLUGIN_DIR, NSC_MONGO_PROBE, NSC_TEST_MONGODB_URI)');

const plugin = require(path.join(PLUGIN_DIR, 'index.js'));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let dbSerial = 0;
function dbUri() {
  const base = MONGO.replace(/\?.*$/, '').replace(/\/+$/, '');
  dbSerial += 1;
  return `${base}/nsc_plugin_${process.pid}_${dbSerial}`;
}

// key=value facts about a collection (tests/mongo/probe.c).
function probe(uri, collection) {
  return new Promise((resolve, reject) => {
    execFile(PROBE, [uri, collection], (err, stdout, stderr) => {
      if (err) return reject(new Error(`probe failed: ${stderr || err.message}`));
      const facts = {};
      for (const line of stdout.split('\n')) {
        const m = /^(\w+)=(-?\d+)$/.exec(line);
        if (m) facts[m[1]] = Number(m[2]);
      }
      resolve(facts);
    });
  });
}

// Everything the plugin logs, by level.
function captureLogger() {
  const lines = { log: [], warn: [], error: [] };
  plugin.logger = {
    log: (s) => lines.log.push(String(s)),
    warn: (s) => lines.warn.push(String(s)),
    error: (s) => lines.error.push(String(s)),
  };
  return lines;
}

// A Nightscout-like ctx whose bus records every event in order.
function nightscoutCtx() {
  const bus = new EventEmitter();
  const seen = [];
  const emit = bus.emit.bind(bus);
  bus.emit = (name, ...args) => {
    seen.push({ name, args, at: performance.now() });
    return emit(name, ...args);
  };
  return { ctx: { bus, bootErrors: [], settings: {} }, seen };
}

function nightscoutEnv(uri, connect) {
  return {
    extendedSettings: { connect: { source: 'simulator', simulatorInterval: 1, lookbackHours: 1, ...connect } },
    storageURI: uri,
    entries_collection: 'entries',
    treatments_collection: 'treatments',
    devicestatus_collection: 'devicestatus',
    profile_collection: 'profile',
  };
}

const named = (seen, name) => seen.filter((e) => e.name === name);

// The engine's own account of each stored batch: frame_ok lines that stored something.
function batchesLogged(lines) {
  return lines.log
    .filter((l) => l.includes('event=frame_ok'))
    .map((l) => {
      const n = (k) => Number((new RegExp(` ${k}=(\\d+)`).exec(l) || [0, 0])[1]);
      return {
        entries: n('entries'),
        devicestatus: n('devicestatus'),
        profile: n('profile'),
        total: n('entries') + n('treatments') + n('devicestatus') + n('profile'),
      };
    })
    .filter((b) => b.total > 0);
}

async function waitFor(what, cond, ms) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

test('connect not enabled, or no source: logs and returns nothing', () => {
  const lines = captureLogger();
  const { ctx, seen } = nightscoutCtx();
  assert.strictEqual(plugin({ extendedSettings: {} }, ctx), undefined);
  assert.deepStrictEqual(lines.log, ['Skipping disabled nightscout-connect']);
  assert.strictEqual(plugin({ extendedSettings: { connect: { sharePassword: 'x' } } }, ctx), undefined);
  assert.match(lines.log[1], /CONNECT_SOURCE is not set/);
  assert.strictEqual(ctx.bus.listenerCount('data-processed'), 0);
  assert.deepStrictEqual(ctx.bootErrors, []);
  assert.strictEqual(seen.length, 0);
});

test('settings: camelCase to CONNECT_*, raw environment text wins, output forced to mongo', () => {
  const env = {
    extendedSettings: {
      connect: {
        source: 'dexcomshare',
        shareAccountName: 'jane',
        sharePassword: 123456, // Nightscout parsed CONNECT_SHARE_PASSWORD=0123456
        linkUpUsername: 'f@example.com',
        linkUpPatientId: 'p-1',
        output: 'filesystem',
        simulatorInterval: 1,
      },
    },
    storageURI: 'mongodb://db.example/ns',
    entries_collection: 'sgv',
    treatments_collection: 'tx',
  };
  const settings = plugin.settingsFor(env, { CONNECT_SHARE_PASSWORD: '0123456', MONGODB_URI: 'mongodb://other/x' });
  assert.deepStrictEqual(settings, {
    CONNECT_SOURCE: 'dexcomshare',
    CONNECT_SHARE_ACCOUNT_NAME: 'jane',
    CONNECT_SHARE_PASSWORD: '0123456',
    CONNECT_LINK_UP_USERNAME: 'f@example.com',
    CONNECT_LINK_UP_PATIENT_ID: 'p-1',
    CONNECT_OUTPUT: 'mongo',
    CONNECT_SIMULATOR_INTERVAL: '1',
    MONGODB_URI: 'mongodb://db.example/ns',
    MONGO_COLLECTION: 'sgv',
    MONGO_TREATMENTS_COLLECTION: 'tx',
  });
  // Without env.storageURI, Nightscout's own variables.
  const bare = plugin.settingsFor({ extendedSettings: { connect: { source: 'linkup' } } }, { MONGO_CONNECTION: 'mongodb://m/db' });
  assert.strictEqual(bare.MONGODB_URI, 'mongodb://m/db');
});

test('invalid settings: a plain message in bootErrors naming the variable, nothing starts', async () => {
  const cases = [
    { connect: { simulatorInterval: 'often' }, names: /CONNECT_SIMULATOR_INTERVAL/, uri: dbUri() },
    { connect: {}, names: /MONGODB_URI/, uri: undefined },
    // Every problem at once, not only the first.
    { connect: { source: 'dexcomshare' },
      names: /2 settings need fixing: CONNECT_SHARE_ACCOUNT_NAME is not set.*; CONNECT_SHARE_PASSWORD is not set/,
      uri: dbUri() },
  ];
  for (const c of cases) {
    const lines = captureLogger();
    const { ctx, seen } = nightscoutCtx();
    const env = nightscoutEnv(c.uri, c.connect);
    assert.strictEqual(plugin(env, ctx), undefined);
    assert.strictEqual(ctx.bootErrors.length, 1, JSON.stringify(ctx.bootErrors));
    const { desc, err } = ctx.bootErrors[0];
    assert.match(desc, /^nightscout-connect: /);
    assert.match(desc, c.names);
    assert.ok(err instanceof Error);
    assert.match(err.message, c.names, 'the thrown Error carries the whole message');
    assert.ok(lines.error.some((l) => c.names.test(l)), 'the message is logged too');
    ctx.bus.emit('data-processed', {});
    await sleep(c.uri ? 1500 : 100);
    assert.deepStrictEqual(seen.map((e) => e.name), ['data-processed'], 'no events from a bridge');
    assert.ok(!lines.log.some((l) => l.includes('event=started')), 'no engine started');
    if (c.uri) assert.strictEqual((await probe(c.uri, 'entries')).count, 0, 'nothing stored');
  }
});

test('the addon is loaded from NSCONNECT_ADDON when set; a missing one is a boot error', () => {
  captureLogger();
  const { ctx } = nightscoutCtx();
  process.env.NSCONNECT_ADDON = path.join(PLUGIN_DIR, 'no-such-addon.node');
  try {
    assert.strictEqual(plugin(nightscoutEnv(dbUri()), ctx), undefined);
  } finally {
    delete process.env.NSCONNECT_ADDON;
  }
  assert.strictEqual(ctx.bootErrors.length, 1);
  assert.match(ctx.bootErrors[0].desc, /^nightscout-connect: .*no-such-addon\.node/);
});

test('starts on the first data-processed, stores, data-received after each batch, teardown stops it', async (t) => {
  const lines = captureLogger();
  const { ctx, seen } = nightscoutCtx();
  const uri = dbUri();
  const handle = plugin(nightscoutEnv(uri), ctx);
  assert.strictEqual(typeof handle.run, 'function');
  assert.strictEqual(typeof handle.stop, 'function');
  assert.deepStrictEqual(ctx.bootErrors, []);

  // Nothing before Nightscout has loaded its data.
  await sleep(1200);
  assert.strictEqual(seen.length, 0);
  assert.strictEqual(handle.status().running, false);
  assert.strictEqual((await probe(uri, 'entries')).count, 0);

  ctx.bus.emit('data-processed', {});
  ctx.bus.emit('data-processed', {}); // only the first one matters
  await waitFor('4 batches', () => named(seen, 'data-received').length >= 4, 20000);

  const t0 = performance.now();
  ctx.bus.emit('teardown');
  const stopMs = performance.now() - t0;
  t.diagnostic(`teardown stopped the engine in ${stopMs.toFixed(1)} ms`);
  assert.ok(stopMs < 1000, `teardown took ${stopMs} ms`);
  assert.strictEqual(handle.status().running, false);

  await sleep(100); // events queued before the stop
  const received = named(seen, 'data-received').length;
  const batches = batchesLogged(lines);
  assert.strictEqual(received, batches.length, 'one data-received per stored batch');
  const stored = handle.status().stored.entries;
  const entries = await probe(uri, 'entries');
  assert.strictEqual(entries.count, stored, 'every entry reported stored is in MongoDB');
  assert.strictEqual(entries.count, entries.distinct, 'no duplicates');
  assert.strictEqual(batches.reduce((s, b) => s + b.entries, 0), stored);
  assert.ok(stored > 3600, `an hour of 1-s readings backfilled (${stored})`);
  const ageMs = Date.now() - entries.min_date;
  assert.ok(ageMs > 55 * 60 * 1000, `the oldest reading is about an hour old (${ageMs} ms)`);

  // The simulator fills the other two collections too: a pump status with
  // every batch of readings, and the one profile with the first batch only.
  const statuses = await probe(uri, 'devicestatus');
  const profiles = await probe(uri, 'profile');
  const status = handle.status().stored;
  assert.ok(batches.every((b) => b.entries > 0 && b.devicestatus === 1), JSON.stringify(batches));
  assert.strictEqual(statuses.count, batches.length, 'one devicestatus per stored batch');
  assert.strictEqual(statuses.count, statuses.distinct, 'no duplicate devicestatus');
  assert.strictEqual(status.devicestatus, statuses.count);
  assert.deepStrictEqual(batches.map((b) => b.profile), [1, ...batches.slice(1).map(() => 0)]);
  assert.strictEqual(profiles.count, 1, 'one profile');
  assert.strictEqual(status.profile, 1);

  // The backfill (an hour old) flushes Nightscout's cache before its data-received;
  // later batches hold the newest readings only.
  const order = seen.filter((e) => e.name !== 'data-processed' && e.name !== 'teardown');
  assert.strictEqual(order[0].name, 'data-update');
  assert.deepStrictEqual(order[0].args, [{ type: 'entries', op: 'remove' }]);
  assert.strictEqual(order[1].name, 'data-received');
  assert.strictEqual(named(seen, 'data-update').length, 1);

  // Stopped: no more batches, no more documents.
  await sleep(2500);
  assert.strictEqual(named(seen, 'data-received').length, received);
  assert.strictEqual(batchesLogged(lines).length, batches.length);
  assert.strictEqual((await probe(uri, 'entries')).count, entries.count);
});

test("Node's event loop stays responsive while the engine runs; tearDown stops it", async (t) => {
  const lines = captureLogger();
  const { ctx, seen } = nightscoutCtx();
  const uri = dbUri();
  const handle = plugin(nightscoutEnv(uri), ctx);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  handle.run(); // run() starts it without data-processed
  handle.run(); // and only once
  // The hour's backfill and a few polls: at least 5 s, and the backfill done.
  const since = Date.now();
  await sleep(5000);
  await waitFor('2 batches', () => named(seen, 'data-received').length >= 2, 15000);
  const ranMs = Date.now() - since;
  delay.disable();
  const maxMs = delay.max / 1e6;
  const p99Ms = delay.percentile(99) / 1e6;
  t.diagnostic(`event-loop delay while the engine ran ${(ranMs / 1000).toFixed(1)} s: max ${maxMs.toFixed(1)} ms, p99 ${p99Ms.toFixed(1)} ms, mean ${(delay.mean / 1e6).toFixed(1)} ms`);
  assert.ok(maxMs < 200, `largest event-loop delay ${maxMs} ms`);

  const t0 = performance.now();
  ctx.bus.emit('tearDown');
  const stopMs = performance.now() - t0;
  t.diagnostic(`tearDown stopped the engine in ${stopMs.toFixed(1)} ms`);
  assert.ok(stopMs < 1000, `tearDown took ${stopMs} ms`);
  handle.stop(); // twice is fine
  assert.strictEqual(handle.status().running, false);
  // A batch stored while tearDown waited for the engine is still announced.
  // A database write still running when the wait ran out (the test server
  // scans the collection on every upsert, so one can take longer than the
  // wait) finishes in the background, says so once, and reports nothing.
  await sleep(100);
  const after = named(seen, 'data-received').length;
  const pending = lines.warn.filter((l) => l.includes('event=stop_pending')).length;
  assert.ok(pending <= 1, `stop_pending said ${pending} times`);
  const stored = handle.status().stored.entries;
  if (pending) {
    t.diagnostic('a write was still in flight when tearDown returned; it finished in the background');
    await sleep(1500);
  }
  const count = (await probe(uri, 'entries')).count;
  if (pending) assert.ok(count >= stored, `MongoDB holds ${count}, status says ${stored}`);
  else assert.strictEqual(count, stored);
  await sleep(1500);
  assert.strictEqual(named(seen, 'data-received').length, after, 'no batch after tearDown');
  assert.strictEqual((await probe(uri, 'entries')).count, count, 'nothing stored after tearDown');
});

test('a problem reaches the log once, in plain words, without the password', async () => {
  const lines = captureLogger();
  const { ctx, seen } = nightscoutCtx();
  const uri = dbUri();
  // The raw environment value wins over Nightscout's parsed one.
  process.env.CONNECT_SIMULATOR_PASSWORD = 'wrong-password';
  let handle;
  try {
    handle = plugin(nightscoutEnv(uri, { simulatorUsername: 'nurse', simulatorPassword: 'fine' }), ctx);
  } finally {
    delete process.env.CONNECT_SIMULATOR_PASSWORD;
  }
  ctx.bus.emit('data-processed', {});
  const problems = () => lines.error.filter((l) => l.startsWith('nightscout-connect: '));
  await waitFor('the rejected login', () => problems().length >= 1, 5000);
  await sleep(2000);
  handle.stop();
  assert.deepStrictEqual(problems(), [
    'nightscout-connect: Simulator rejected the login: check CONNECT_SIMULATOR_USERNAME and CONNECT_SIMULATOR_PASSWORD',
  ]);
  const status = handle.status();
  assert.ok(status.loginsRejected >= 1);
  assert.match(status.lastError, /rejected the login/);
  assert.strictEqual(named(seen, 'data-received').length, 0);
  assert.strictEqual((await probe(uri, 'entries')).count, 0);
  const all = [...lines.log, ...lines.warn, ...lines.error].join('\n');
  assert.ok(!all.includes('wrong-password'), 'the password is never logged');
});

test('the addon: stop is idempotent, start twice is refused, unknown settings are listed', () => {
  const addon = require(path.join(PLUGIN_DIR, 'nsconnect.node'));
  const bridge = addon.create({
    CONNECT_SOURCE: 'simulator',
    CONNECT_OUTPUT: 'mongo',
    MONGODB_URI: dbUri(),
    CONNECT_NOT_A_SETTING: 'x',
  });
  assert.deepStrictEqual(bridge.ignored, ['CONNECT_NOT_A_SETTING']);
  addon.stop(bridge); // before start: nothing to do
  addon.start(bridge, () => {});
  assert.throws(() => addon.start(bridge, () => {}), { code: 'NSC_ERR_STATE' });
  assert.strictEqual(addon.status(bridge).running, true);
  addon.stop(bridge);
  addon.stop(bridge);
  assert.strictEqual(addon.status(bridge).running, false);
  assert.throws(() => addon.create({ CONNECT_SOURCE: 'nowhere', CONNECT_OUTPUT: 'mongo', MONGODB_URI: dbUri() }),
    (err) => err.code === 'NSC_ERR_CONFIG' && /CONNECT_SOURCE/.test(err.message));
});

test('a running bridge does not hold Node open, and process.exit() stops it first', async (t) => {
  const child = `
    const { EventEmitter } = require('node:events');
    const plugin = require(process.env.NSC_PLUGIN_DIR + '/index.js');
    const ctx = { bus: new EventEmitter(), bootErrors: [], settings: {} };
    plugin({ extendedSettings: { connect: { source: 'simulator', simulatorInterval: 1, lookbackHours: 1 } },
      storageURI: process.argv[1] }, ctx);
    ctx.bus.emit('data-processed', {});
    setTimeout(() => { if (process.argv[2] === 'exit') process.exit(3); }, 1500);`;
  for (const mode of ['return', 'exit']) {
    const started = performance.now();
    const result = await new Promise((resolve) => {
      execFile(process.execPath, ['-e', child, dbUri(), mode], { timeout: 20000 }, (err, stdout, stderr) =>
        resolve({ code: err ? err.code : 0, signal: err && err.signal, stdout, stderr }));
    });
    const ms = performance.now() - started;
    t.diagnostic(`${mode}: the process ended in ${ms.toFixed(0)} ms (code ${result.code})`);
    assert.strictEqual(result.signal, null, result.stderr);
    assert.strictEqual(result.code, mode === 'exit' ? 3 : 0, result.stderr);
    assert.match(result.stdout, /comp=embed event=started/, 'logs go to the console by default');
  }
});
