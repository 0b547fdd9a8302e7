// A pusher-js client driven by the Python tests over stdin/stdout.
// Each line in is a JSON command; each line out is a JSON report.
'use strict';
const readline = require('readline');
const Pusher = require('pusher-js');

// Node's XMLHttpRequest forbids a Cookie header; a browser sends the session cookie
// by itself. Lifting that check lets the tests log in the way a browser would,
// while pusher-js builds and sends its auth requests unchanged.
const createXHR = Pusher.Runtime.createXHR;
Pusher.Runtime.createXHR = function () {
  const xhr = createXHR.call(this);
  if (typeof xhr.setDisableHeaderCheck === 'function') xhr.setDisableHeaderCheck(true);
  return xhr;
};

let pusher = null;
let nextAuthId = 1;
const pendingAuth = new Map();

function emit(report) {
  process.stdout.write(JSON.stringify(report) + '\n');
}

function pythonHandler(kind) {
  return (params, callback) => {
    const id = nextAuthId++;
    pendingAuth.set(id, callback);
    emit({ type: 'auth_request', id, kind, socket_id: params.socketId, channel: params.channelName || null });
  };
}

function authOption(spec, kind) {
  if (!spec) return { customHandler: pythonHandler(kind) };
  return { endpoint: spec.endpoint, transport: 'ajax', headers: spec.headers || {}, params: spec.params || {} };
}

function membersOf(members) {
  const out = {};
  members.each((m) => { out[m.id] = m.info === undefined ? null : m.info; });
  return out;
}

function connect(cmd) {
  Pusher.log = (msg) => emit({ type: 'log', msg: String(msg) });
  pusher = new Pusher(cmd.key, {
    cluster: 'mt1',
    wsHost: cmd.wsHost,
    wsPort: cmd.wsPort,
    wssPort: cmd.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: authOption(cmd.channelAuth, 'channel'),
    userAuthentication: authOption(cmd.userAuth, 'user'),
  });
  pusher.connection.bind('state_change', (s) => emit({ type: 'state', previous: s.previous, current: s.current }));
  pusher.connection.bind('connected', () => emit({ type: 'connected', socket_id: pusher.connection.socket_id }));
  pusher.connection.bind('error', (err) => emit({ type: 'connection_error', error: JSON.stringify(err && (err.data || err.error || err)) }));
  pusher.user.bind_global((event, data) => emit({ type: 'user_event', event, data }));
  pusher.user.bind('pusher:signin_error', (err) => emit({ type: 'signin_error', status: err.status, error: String(err.error) }));
  pusher.connection.bind('message', (msg) => {
    if (msg.event === 'pusher:signin_success') emit({ type: 'signin_success' });
    if (msg.event === 'pusher:error') emit({ type: 'pusher_error', data: msg.data });
    // bind_global callbacks get no metadata, so the sender of a client event is read here.
    if (msg.user_id !== undefined) emit({ type: 'event_sender', channel: msg.channel, event: msg.event, user_id: msg.user_id });
  });
}

function subscribe(name) {
  const channel = pusher.subscribe(name);
  channel.bind('pusher:subscription_succeeded', (members) => {
    const report = { type: 'subscribed', channel: name };
    if (members && typeof members.each === 'function') {
      report.members = membersOf(members);
      report.me = members.me ? members.me.id : null;
    }
    emit(report);
  });
  channel.bind('pusher:subscription_error', (err) => emit({ type: 'subscription_error', channel: name, status: err.status, error: String(err.error) }));
  channel.bind('pusher:member_added', (m) => emit({ type: 'member_added', channel: name, id: m.id, info: m.info === undefined ? null : m.info }));
  channel.bind('pusher:member_removed', (m) => emit({ type: 'member_removed', channel: name, id: m.id, info: m.info === undefined ? null : m.info }));
  channel.bind('pusher:cache_miss', () => emit({ type: 'cache_miss', channel: name }));
  channel.bind_global((event, data) => {
    if (event.startsWith('pusher:')) return;
    emit({ type: 'event', channel: name, event, data });
  });
}

const handlers = {
  connect,
  subscribe: (cmd) => subscribe(cmd.channel),
  unsubscribe: (cmd) => pusher.unsubscribe(cmd.channel),
  signin: () => pusher.signin(),
  auth_reply: (cmd) => {
    const callback = pendingAuth.get(cmd.id);
    pendingAuth.delete(cmd.id);
    if (cmd.error) callback(new Error(cmd.error), null);
    else callback(null, cmd.data);
  },
  client_event: (cmd) => {
    const ok = pusher.channel(cmd.channel).trigger(cmd.event, cmd.data);
    emit({ type: 'client_event_sent', ok });
  },
  client_event_json: (cmd) => {
    // data given as JSON text, so that Python need not build what it refuses to decode
    const ok = pusher.channel(cmd.channel).trigger(cmd.event, JSON.parse(cmd.json));
    emit({ type: 'client_event_sent', ok });
  },
  disconnect: () => pusher.disconnect(),
  exit: () => { if (pusher) pusher.disconnect(); setTimeout(() => process.exit(0), 50); },
};

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
    handlers[cmd.cmd](cmd);
  } catch (err) {
    emit({ type: 'harness_error', error: String(err && err.stack || err), line });
  }
});
process.stdin.on('end', () => process.exit(0));
emit({ type: 'ready' });
