/*
 * pusher_django's browser helpers, loaded after pusher-js (no build step, no dependency).
 *
 *   {% load pusher_django %}{% pusher_js_config %}      (in the template, once)
 *   const pusher = PusherDjango.connect();              (in the page's script)
 *
 * connect() builds the pusher-js client for the configured app with one batched
 * authorization request per page; batchAuthorizer() is the handler on its own, for
 * pages that build their client by hand. recover(pusher) (or recover(channel)) makes
 * channels catch up, after every reconnect, on the events they missed. hideMember(pusher,
 * id) keeps a member (connect() does it for the site's listener) out of presence
 * channels' members, counts and member events.
 */
(function (root) {
  'use strict';

  function cookie(name) {
    const found = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return found ? decodeURIComponent(found[1]) : null;
  }

  /**
   * A `channelAuthorization.customHandler` that gathers every subscription asked for in
   * the same tick (a page's channels on connect, all of them again after a reconnect)
   * into one POST to pusher/auth/batch/, with the CSRF token and X-Socket-ID.
   */
  function batchAuthorizer(options) {
    const settings = Object.assign({ delay: 0, maxBatch: 100, headers: {} }, options || {});
    let queue = [];
    let timer = null;

    function send(socketId, items) {
      const body = new URLSearchParams();
      body.append('socket_id', socketId);
      items.forEach((item, index) => body.append('channel_name[' + index + ']', item.channel));
      const headers = Object.assign(
        {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Socket-ID': socketId,
          'X-CSRFToken': settings.csrfToken || cookie('csrftoken') || '',
        },
        settings.headers,
      );
      fetch(settings.endpoint, { method: 'POST', body, headers, credentials: 'same-origin' })
        .then((response) => {
          if (!response.ok) throw new Error('batch authorization answered ' + response.status);
          return response.json();
        })
        .then((answer) => {
          const results = answer[socketId] || {};
          items.forEach((item) => {
            const result = results[item.channel];
            if (result && result.status === 200) item.callback(null, result.data);
            else {
              const status = result ? result.status : 404;
              const error = new Error((result && result.error) || 'not authorized');
              error.status = status;
              item.callback(error, null);
            }
          });
        })
        .catch((error) => items.forEach((item) => item.callback(error, null)));
    }

    function flush() {
      timer = null;
      const pending = queue;
      queue = [];
      const bySocket = new Map();
      pending.forEach((item) => {
        if (!bySocket.has(item.socketId)) bySocket.set(item.socketId, []);
        bySocket.get(item.socketId).push(item);
      });
      bySocket.forEach((items, socketId) => {
        for (let start = 0; start < items.length; start += settings.maxBatch) {
          send(socketId, items.slice(start, start + settings.maxBatch));
        }
      });
    }

    return function customHandler(params, callback) {
      queue.push({ socketId: params.socketId, channel: params.channelName, callback });
      if (timer === null) timer = setTimeout(flush, settings.delay);
    };
  }

  /** The JSON that {% pusher_js_config %} wrote into the page. */
  function config(elementId) {
    const element = document.getElementById(elementId || 'pusher-django-config');
    if (!element) throw new Error('{% pusher_js_config %} is missing from the page');
    return JSON.parse(element.textContent);
  }

  /**
   * Leave one member id out of presence channels: `members.count`, `members.each()`,
   * `members.get()` and the `pusher:member_added` / `pusher:member_removed` events.
   * The server still counts it (REST `user_count`, `get_users`). Pass a Pusher client
   * (every presence channel, now and later) or one channel.
   */
  function hideMember(target, memberId) {
    if (memberId === null || memberId === undefined || memberId === '') return target;
    const id = String(memberId);
    if (target && target.channels && typeof target.subscribe === 'function') {
      target.channels.all().forEach((channel) => hideOnChannel(channel, id));
      const subscribe = target.subscribe.bind(target);
      target.subscribe = (name) => hideOnChannel(subscribe(name), id);
      return target;
    }
    return hideOnChannel(target, id);
  }

  function hideOnChannel(channel, id) {
    const members = channel && channel.members;
    if (!members || channel.pusherDjangoHidden) return channel;
    channel.pusherDjangoHidden = id;
    const onSubscription = members.onSubscription.bind(members);
    const addMember = members.addMember.bind(members);
    const removeMember = members.removeMember.bind(members);
    members.onSubscription = function (data) {
      onSubscription(data);
      if (Object.prototype.hasOwnProperty.call(members.members, id)) {
        delete members.members[id];
        members.count -= 1;
      }
    };
    members.addMember = (data) => (data && String(data.user_id) === id ? null : addMember(data));
    members.removeMember = (data) => (data && String(data.user_id) === id ? null : removeMember(data));
    const emit = channel.emit.bind(channel);
    channel.emit = function (name, data, metadata) {
      if ((name === 'pusher:member_added' || name === 'pusher:member_removed') && !data) return channel;
      return emit(name, data, metadata);
    };
    return channel;
  }

  /** A pusher-js client for the configured app, with batched authorization. */
  function connect(overrides, elementId) {
    const page = config(elementId);
    const csrf = { 'X-CSRFToken': page.csrfToken || cookie('csrftoken') || '' };
    const options = Object.assign({}, page.options, {
      channelAuthorization: {
        customHandler: batchAuthorizer({ endpoint: page.batchEndpoint, csrfToken: page.csrfToken }),
      },
      userAuthentication: { endpoint: page.userAuthEndpoint, transport: 'ajax', headers: csrf },
    }, overrides || {});
    return hideMember(new root.Pusher(page.key, options), page.listenerId);
  }

  /**
   * Deliver what a channel missed while it was disconnected, once and in order.
   *
   * Remembers the last event id seen per channel (the `_pusher_id` the outbox adds to
   * object data) and, after every re-subscription, asks pusher/history/ for what came
   * after it; those events reach the channel's existing bind() handlers before any newer
   * live event, and an id already delivered is dropped. When the gap is older than the
   * server keeps, the channel emits `pusher_django:history_expired` instead: reload the
   * state then. Pass a Pusher client (every channel, now and later) or one channel.
   */
  function recover(target, options) {
    let page = {};
    try { page = config(); } catch (error) { /* endpoint and id field given in options */ }
    const settings = Object.assign(
      { endpoint: page.historyEndpoint || '/pusher/history/', idField: page.idField || '_pusher_id', limit: 100 },
      options || {},
    );
    if (target && target.channels && typeof target.subscribe === 'function') {
      target.channels.all().forEach((channel) => recoverChannel(channel, settings));
      const subscribe = target.subscribe.bind(target);
      target.subscribe = (name) => recoverChannel(subscribe(name), settings);
      return target;
    }
    return recoverChannel(target, settings);
  }

  function recoverChannel(channel, settings) {
    if (channel.pusherDjangoRecovery) return channel;
    const state = { lastId: null, seen: new Set(), recovering: false, buffer: [] };
    channel.pusherDjangoRecovery = state;
    const emit = channel.emit.bind(channel);

    function remember(id) {
      state.seen.add(id);
      if (state.seen.size > 5000) state.seen.delete(state.seen.values().next().value);
      if (state.lastId === null || id > state.lastId) state.lastId = id;
    }

    function deliver(name, data, metadata) {
      const id = data && typeof data === 'object' ? data[settings.idField] : undefined;
      if (typeof id === 'number') {
        if (state.seen.has(id)) return;
        remember(id);
      }
      emit(name, data, metadata);
    }

    async function fetchAfter(after) {
      const query = new URLSearchParams({ channel: channel.name, limit: String(settings.limit) });
      if (after !== null) query.set('after', String(after));
      const response = await fetch(settings.endpoint + '?' + query, {
        credentials: 'same-origin', headers: { Accept: 'application/json' },
      });
      if (!response.ok) throw new Error('pusher/history/ answered ' + response.status);
      const answer = await response.json();
      if (after === null) {
        if (state.lastId === null) state.lastId = answer.last_id;
        return;
      }
      if (answer.expired) {
        state.lastId = answer.last_id;
        emit('pusher_django:history_expired', { channel: channel.name, after });
        return;
      }
      answer.events.forEach((event) => deliver(event.event, event.data, {}));
      if (answer.more && answer.events.length) {
        await fetchAfter(answer.events[answer.events.length - 1].id);
      }
    }

    function catchUp() {
      state.recovering = true;
      fetchAfter(state.lastId)
        .catch((error) => console.warn('pusher_django: could not recover', channel.name, error))
        .finally(() => {
          const pending = state.buffer;
          state.buffer = [];
          state.recovering = false;
          pending.forEach((args) => deliver(...args));
        });
    }

    channel.emit = function (name, data, metadata) {
      if (typeof name === 'string' && name.indexOf('pusher:') === 0) {
        emit(name, data, metadata);
        if (name === 'pusher:subscription_succeeded') catchUp();
      } else if (state.recovering) {
        state.buffer.push([name, data, metadata]);
      } else {
        deliver(name, data, metadata);
      }
      return channel;
    };
    if (channel.subscribed) catchUp();
    return channel;
  }

  root.PusherDjango = Object.assign(root.PusherDjango || {}, { batchAuthorizer, config, connect, hideMember, recover });
})(window);
