// SPDX-License-Identifier: MIT
// nightscout-connect for Nightscout, run by nsconnect's native engine: the
// module Nightscout loads with require('nightscout-connect')(env, ctx).
'use strict';

const path = require('path');

// Nightscout reloads only the last 15 minutes while its cache is warm.
const RELOAD_WINDOW_MS = 15 * 60 * 1000;

// shareAccountName -> CONNECT_SHARE_ACCOUNT_NAME (Nightscout camel-cases CONNECT_*).
function envName(key) {
  return 'CONNECT_' + String(key).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function first(...values) {
  return values.find((v) => v !== undefined && v !== null && v !== '');
}

// The engine's settings from Nightscout's env. A variable's raw text in the
// process environment wins over Nightscout's parsed value, which turned
// numeric strings into numbers ("0123456" -> 123456).
function settingsFor(env, processEnv = process.env) {
  const connect = (env && env.extendedSettings && env.extendedSettings.connect) || {};
  const settings = {};
  for (const [key, value] of Object.entries(connect)) {
    const name = envName(key);
    const raw = first(processEnv[name], processEnv['CUSTOMCONNSTR_' + name]);
    if (raw !== undefined) settings[name] = String(raw);
    else if (value !== undefined && value !== null) settings[name] = String(value);
  }
  // As a plugin it always writes into Nightscout's own database.
  settings.CONNECT_OUTPUT = 'mongo';
  delete settings.CONNECT_OUTPUT_DIR;
  const uri = first(env.storageURI, env.mongo, processEnv.MONGODB_URI,
    processEnv.MONGO_CONNECTION, processEnv.CUSTOMCONNSTR_mongo);
  if (uri !== undefined) settings.MONGODB_URI = String(uri);
  const collections = {
    MONGO_COLLECTION: env.entries_collection,
    MONGO_TREATMENTS_COLLECTION: env.treatments_collection,
    MONGO_DEVICESTATUS_COLLECTION: env.devicestatus_collection,
    MONGO_PROFILE_COLLECTION: env.profile_collection,
  };
  for (const [name, value] of Object.entries(collections)) {
    const v = first(value, processEnv[name]);
    if (v !== undefined) settings[name] = String(v);
  }
  return settings;
}

function loadAddon() {
  return require(process.env.NSCONNECT_ADDON || path.join(__dirname, 'nsconnect.node'));
}

function bootError(ctx, err) {
  if (!ctx) return;
  if (!Array.isArray(ctx.bootErrors)) ctx.bootErrors = [];
  ctx.bootErrors.push({ desc: 'nightscout-connect: ' + err.message, err });
}

function nightscoutConnect(env, ctx) {
  const logger = module.exports.logger || console;
  const connect = env && env.extendedSettings && env.extendedSettings.connect;
  if (!connect) {
    logger.log('Skipping disabled nightscout-connect');
    return undefined;
  }
  if (!connect.source) {
    logger.log('nightscout-connect: CONNECT_SOURCE is not set; not starting');
    return undefined;
  }

  let addon, bridge;
  try {
    addon = loadAddon();
    bridge = addon.create(settingsFor(env));
  } catch (err) {
    logger.error('nightscout-connect: ' + err.message);
    bootError(ctx, err);
    return undefined;
  }
  for (const name of bridge.ignored) {
    logger.warn(`nightscout-connect: ignoring ${name}, a setting nsconnect does not have`);
  }

  const bus = ctx && ctx.bus;
  const onEvent = (ev) => {
    try {
      if (ev.type === 'batch') {
        // Older than the reload window: flush Nightscout's cache (a remove
        // with no changes) so the reload reads its whole window again.
        if (bus && ev.oldestMs > 0 && ev.oldestMs < Date.now() - RELOAD_WINDOW_MS) {
          bus.emit('data-update', { type: 'entries', op: 'remove' });
        }
        if (bus) bus.emit('data-received');
      } else if (ev.type === 'problem') {
        logger.error('nightscout-connect: ' + ev.message);
      } else if (ev.type === 'log') {
        if (ev.level === 'error') logger.error(ev.line);
        else if (ev.level === 'warn') logger.warn(ev.line);
        else logger.log(ev.line);
      }
    } catch (err) {
      logger.error('nightscout-connect: handling an engine event failed: ' + (err && err.stack));
    }
  };

  let running = false;
  let tornDown = false;
  // process.exit() skips Node's own clean-up: stop the engine thread first.
  const onExit = () => stop();
  const run = () => {
    if (running) return;
    try {
      addon.start(bridge, onEvent);
      running = true;
      process.once('exit', onExit);
    } catch (err) {
      logger.error('nightscout-connect: ' + err.message);
    }
  };
  const stop = () => {
    if (!running) return;
    running = false;
    process.removeListener('exit', onExit);
    addon.stop(bridge);
  };
  const teardown = () => {
    tornDown = true;
    stop();
  };

  if (bus) {
    // Start once Nightscout has loaded its data.
    bus.once('data-processed', () => {
      if (!tornDown) run();
    });
    // Nightscout emits `teardown`; nightscout-connect's docs say `tearDown`.
    bus.on('teardown', teardown);
    bus.on('tearDown', teardown);
  }
  return { run, stop, status: () => addon.status(bridge) };
}

module.exports = nightscoutConnect;
module.exports.settingsFor = settingsFor;
module.exports.envName = envName;
module.exports.RELOAD_WINDOW_MS = RELOAD_WINDOW_MS;
// Where the plugin writes its messages (console unless replaced).
module.exports.logger = null;
