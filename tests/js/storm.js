// Many pusher-js clients in one Node process, each with the shipped pusher-django.js:
// batched authorization and recover(), against a real Django server and soketi.
// argv[2] is a JSON file: {key, wsPort, base, cookie, csrfToken, limit, clients: [[channel…]…],
// positions: {channel: position}}. Commands arrive on stdin, one per line ("status",
// "report", "close"); each answer is one JSON line on stdout.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const Pusher = require('pusher-js');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
globalThis.window = globalThis;
globalThis.document = { cookie: '', getElementById: () => null };
globalThis.Pusher = Pusher;
require(path.join(__dirname, '../../pusher_django/static/pusher_django/pusher-django.js'));
const PusherDjango = globalThis.PusherDjango;

const clients = plan.clients.map((channels, index) => {
  const record = { index, received: {}, outcomes: [], subscribed: 0, errors: [] };
  const headers = { Cookie: plan.cookie };
  const pusher = new Pusher(plan.key, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: plan.wsPort,
    wssPort: plan.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: PusherDjango.batchAuthorizer({
        endpoint: plan.base + '/pusher/auth/batch/', csrfToken: plan.csrfToken, headers,
      }),
    },
  });
  // 4000-4099 closes are refusals (no reconnect); a restart's 4200 is expected.
  pusher.connection.bind('error', (error) => {
    const code = error && error.data && error.data.code;
    if (code >= 4000 && code < 4100) record.errors.push('connection closed ' + code);
  });
  PusherDjango.recover(pusher, {
    endpoint: plan.base + '/pusher/history/',
    headers,
    limit: plan.limit,
    positions: plan.positions,
    onOutcome: (outcome) => record.outcomes.push(outcome),
  });
  channels.forEach((name) => {
    record.received[name] = [];
    const channel = pusher.subscribe(name);
    channel.bind('pusher:subscription_succeeded', () => { record.subscribed += 1; });
    channel.bind('pusher:subscription_error', (error) => record.errors.push(String(error.status) + ' ' + String(error.error && (error.error.cause || error.error.message || error.error))));
    // Object data carries its event id; other data is unique text ("tick-<n>").
    channel.bind('tick', (data) => record.received[name].push(typeof data === 'object' ? data._pusher_id : data));
  });
  record.pusher = pusher;
  return record;
});

function status() {
  const states = {};
  clients.forEach((c) => { states[c.pusher.connection.state] = (states[c.pusher.connection.state] || 0) + 1; });
  return {
    type: 'status',
    states,
    subscribed: clients.reduce((sum, c) => sum + c.subscribed, 0),
    outcomes: clients.reduce((sum, c) => sum + c.outcomes.length, 0),
    notRecovered: clients.flatMap((c) => c.outcomes.filter((o) => !o.recovered)).slice(0, 20),
    errors: clients.flatMap((c) => c.errors).slice(0, 20),
  };
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const command = line.trim();
  if (command === 'status') process.stdout.write(JSON.stringify(status()) + '\n');
  if (command === 'report') {
    const received = clients.map((c) => c.received);
    process.stdout.write(JSON.stringify({ type: 'report', received }) + '\n');
  }
  if (command === 'close') {
    clients.forEach((c) => c.pusher.disconnect());
    process.exit(0);
  }
});
process.stdout.write(JSON.stringify({ type: 'ready', clients: clients.length }) + '\n');
