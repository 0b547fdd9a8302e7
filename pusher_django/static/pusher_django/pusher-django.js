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
 * channels' members, counts and member events. resolveReferences(pusher) (connect() and
 * recover() do it) fetches large events that were sent by reference before the channel's
 * handlers see them.
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
    const client = hideMember(new root.Pusher(page.key, options), page.listenerId);
    return resolveReferences(client, { endpoint: page.historyEndpoint });
  }

  /** The key that marks a reference to a large event; its value is the event's id. */
  const REFERENCE_KEY = '_pusher_ref';

  /**
   * GET pusher/history/ with `query`; a dropped connection, 429 or 5xx is tried again (three
   * times). A refusal throws an Error whose `status` is the answer's.
   */
  async function historyGet(settings, query) {
    for (let attempt = 0; ; attempt += 1) {
      let response = null;
      try {
        response = await fetch(settings.endpoint + '?' + query, {
          credentials: 'same-origin',
          headers: Object.assign({ Accept: 'application/json' }, settings.headers),
        });
      } catch (error) {
        if (attempt >= 3) throw error;
      }
      if (response && response.ok) return response.json();
      if ((response && response.status !== 429 && response.status < 500) || attempt >= 3) {
        const error = new Error('pusher/history/ answered ' + response.status);
        error.status = response.status;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250 * 2 ** attempt));
    }
  }

  /**
   * Resolve large events sent by reference: an event whose data is {_pusher_id: 42,
   * _pusher_ref: 42} is fetched whole from pusher/history/?channel=…&id=42 (authorized
   * exactly like subscribing, decrypted for the page like history) and reaches the
   * channel's bind() handlers with its full data. Events that arrive meanwhile wait, so the
   * handlers see every event in the order it was sent. When the fetch is refused (the user
   * may no longer read the channel: reason 'refused'), the event is no longer retained
   * (OUTBOX["RETENTION"]: 'expired') or pusher/history/ cannot be reached ('unavailable'),
   * the channel emits `pusher_django:reference-failed` with {channel, event, id, reason,
   * status} instead, and the next events follow. Pass a Pusher client (every channel, now
   * and later) or one channel. Options: endpoint, headers (extra request headers).
   */
  function resolveReferences(target, options) {
    let page = {};
    try { page = config(); } catch (error) { /* the endpoint is given in options */ }
    const settings = Object.assign(
      { endpoint: page.historyEndpoint || '/pusher/history/', headers: {} },
      options || {},
    );
    if (!settings.endpoint) settings.endpoint = page.historyEndpoint || '/pusher/history/';
    if (target && target.channels && typeof target.subscribe === 'function') {
      target.channels.all().forEach((channel) => resolveOnChannel(channel, settings));
      const subscribe = target.subscribe.bind(target);
      target.subscribe = (name) => resolveOnChannel(subscribe(name), settings);
      return target;
    }
    return resolveOnChannel(target, settings);
  }

  function referenceId(data) {
    const id = data && typeof data === 'object' && !Array.isArray(data) ? data[REFERENCE_KEY] : undefined;
    return Number.isInteger(id) && id > 0 ? id : undefined;
  }

  function resolveOnChannel(channel, settings) {
    if (!channel || channel.pusherDjangoReferences) return channel;
    channel.pusherDjangoReferences = true;
    const emit = channel.emit.bind(channel);
    const waiting = []; // [name, data, metadata] behind a reference being fetched
    let busy = false;

    function safely(name, data, metadata) {
      try {
        emit(name, data, metadata);
      } catch (error) {
        console.error('pusher_django: a handler of', name, 'on', channel.name, 'failed', error);
      }
    }

    async function resolve(name, id) {
      const query = new URLSearchParams({ channel: channel.name, id: String(id) });
      try {
        const answer = await historyGet(settings, query);
        if (answer.event && answer.event.event === name) return [answer.event.data, null];
        return [null, { reason: 'refused', status: 200 }];
      } catch (error) {
        const status = typeof error.status === 'number' ? error.status : null;
        const reason = status === 403 ? 'refused' : status === 404 || status === 410 ? 'expired' : 'unavailable';
        return [null, { reason, status }];
      }
    }

    async function drain() {
      busy = true;
      while (waiting.length) {
        const [name, data, metadata] = waiting.shift();
        const id = referenceId(data);
        if (id === undefined) {
          safely(name, data, metadata);
          continue;
        }
        const [whole, failure] = await resolve(name, id);
        if (failure === null) safely(name, whole, metadata);
        else {
          console.warn('pusher_django: event', id, name, 'on', channel.name, 'not resolved:', failure.reason);
          safely('pusher_django:reference-failed', Object.assign({ channel: channel.name, event: name, id }, failure));
        }
      }
      busy = false;
    }

    channel.emit = function (name, data, metadata) {
      // System events, and client events (sent by pages, never outbox rows), are never references.
      const internal = typeof name === 'string' && (name.indexOf('pusher:') === 0
        || name.indexOf('pusher_internal:') === 0 || name.indexOf('client-') === 0);
      if (internal || (!busy && referenceId(data) === undefined)) {
        emit(name, data, metadata);
      } else {
        waiting.push([name, data, metadata]);
        if (!busy) drain();
      }
      return channel;
    };
    return channel;
  }

  /**
   * Catch channels up on what they missed, the way Centrifugo recovers: every event sent
   * since the channel's position, once and in order, or none at all and an outcome that
   * says why (reload the state then). Never part of a gap.
   *
   * A channel's position is the id of the last event it received. It starts from the page's
   * {% pusher_positions %} (the position the page was rendered at, so nothing sent between
   * rendering and subscribing is lost), else from asking pusher/history/ on the first
   * subscription. After every (re-)subscription the channel asks pusher/history/ for what
   * came after its position; those events reach its bind() handlers before any newer live
   * event, each once: by event id, and data that is not an object, which carries no id on
   * the wire, by its name and content. Events this page caused (its sockets were excluded
   * through X-Socket-ID) are not replayed. Each catch-up ends with a
   * `pusher_django:recovery` event on the channel and `options.onOutcome(outcome)`, where
   * outcome is {channel, recovered, reason, position, events}: reason is null when
   * recovered, else 'too_old', 'too_many', 'unknown_position' or 'unavailable' (the request
   * failed). Pass a Pusher client (every channel, now and later) or one channel. Options:
   * endpoint, limit (the longest gap to accept, at most 500), headers (extra request
   * headers), positions ({channel: position}), onOutcome.
   */
  function recover(target, options) {
    let page = {};
    try { page = config(); } catch (error) { /* endpoint and id field given in options */ }
    const settings = Object.assign(
      {
        endpoint: page.historyEndpoint || '/pusher/history/',
        idField: page.idField || '_pusher_id',
        limit: 100,
        headers: {},
        positions: pagePositions(),
        onOutcome: null,
      },
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

  /** What {% pusher_positions %} wrote into the page: {channel: position}. */
  function pagePositions() {
    const element = typeof document === 'undefined' ? null : document.getElementById('pusher-django-positions');
    return element ? JSON.parse(element.textContent) : {};
  }

  const socketHistory = new WeakMap();

  /** The last socket ids of a client: events excluded through them are this page's own. */
  function socketIds(pusher) {
    if (!pusher || !pusher.connection) return [];
    let ids = socketHistory.get(pusher);
    if (!ids) {
      ids = [];
      socketHistory.set(pusher, ids);
      const note = () => {
        const id = pusher.connection.socket_id;
        if (id && ids.indexOf(id) < 0) {
          ids.push(id);
          if (ids.length > 5) ids.shift();
        }
      };
      pusher.connection.bind('connected', note);
      note();
    }
    return ids;
  }

  function recoverChannel(channel, settings) {
    if (channel.pusherDjangoRecovery) return channel;
    resolveOnChannel(channel, settings); // a recovered large event comes back as its reference
    const given = settings.positions && settings.positions[channel.name];
    const state = {
      position: typeof given === 'number' ? given : null,
      takenAt: 0, // performance.now() when the position was known to be current (0: page load)
      seen: new Set(),
      untaggedLive: [], // live events without an id since the position: [name, data] signatures
      untaggedRecovered: [],
      recovering: false,
      again: false,
      buffer: [],
    };
    channel.pusherDjangoRecovery = state;
    const emit = channel.emit.bind(channel);
    socketIds(channel.pusher);

    function eventId(data) {
      const id = data && typeof data === 'object' && !Array.isArray(data) ? data[settings.idField] : undefined;
      return typeof id === 'number' ? id : undefined;
    }

    function signature(name, data) {
      return name + '\u0000' + JSON.stringify(data);
    }

    function take(list, item) {
      const index = list.indexOf(item);
      if (index < 0) return false;
      list.splice(index, 1);
      return true;
    }

    function remember(id) {
      state.position = id;
      state.seen.add(id);
      if (state.seen.size > 5000) state.seen.delete(state.seen.values().next().value);
    }

    function deliverLive(name, data, metadata) {
      const id = eventId(data);
      if (id !== undefined) {
        if (state.seen.has(id)) return;
        remember(id);
        state.untaggedLive = [];
        state.untaggedRecovered = [];
      } else {
        const key = signature(name, data);
        if (take(state.untaggedRecovered, key)) return;
        state.untaggedLive.push(key);
        if (state.untaggedLive.length > 1000) state.untaggedLive.shift();
      }
      emit(name, data, metadata);
    }

    function deliverRecovered(event) {
      const known = state.seen.has(event.id);
      remember(event.id);
      if (known) return;
      if (eventId(event.data) === undefined) {
        const key = signature(event.event, event.data);
        if (take(state.untaggedLive, key)) return;
        state.untaggedRecovered.push(key);
      }
      emit(event.event, event.data, {});
    }

    function outcome(recovered, reason, events) {
      const result = { channel: channel.name, recovered, reason, position: state.position, events };
      emit('pusher_django:recovery', result);
      if (typeof settings.onOutcome === 'function') settings.onOutcome(result);
    }

    const ask = (query) => historyGet(settings, query);

    async function fetchAfter(after) {
      const query = new URLSearchParams({ channel: channel.name, limit: String(settings.limit) });
      const askedAt = performance.now();
      if (after !== null) {
        query.set('after', String(after));
        if (after === 0) query.set('age', String(Math.floor((askedAt - state.takenAt) / 1000)));
        socketIds(channel.pusher).forEach((id) => query.append('socket_id', id));
      }
      const answer = await ask(query);
      if (after === null) {
        if (state.position === null) [state.position, state.takenAt] = [answer.position, askedAt];
        return;
      }
      if (answer.recovered) {
        answer.events.forEach(deliverRecovered);
        if (state.position === after) [state.position, state.takenAt] = [answer.position, askedAt];
      } else {
        [state.position, state.takenAt] = [answer.position, askedAt];
      }
      state.untaggedLive = [];
      outcome(answer.recovered, answer.reason, answer.events.length);
    }

    function catchUp() {
      if (state.recovering) {
        state.again = true;
        return;
      }
      state.recovering = true;
      fetchAfter(state.position)
        .catch((error) => {
          console.warn('pusher_django: could not recover', channel.name, error);
          outcome(false, 'unavailable', 0);
        })
        .finally(() => {
          const pending = state.buffer;
          state.buffer = [];
          state.recovering = false;
          pending.forEach((args) => deliverLive(...args));
          if (state.again) {
            state.again = false;
            catchUp();
          }
        });
    }

    channel.emit = function (name, data, metadata) {
      if (typeof name === 'string' && name.indexOf('pusher:') === 0) {
        emit(name, data, metadata);
        if (name === 'pusher:subscription_succeeded') catchUp();
      } else if (state.recovering) {
        state.buffer.push([name, data, metadata]);
      } else {
        deliverLive(name, data, metadata);
      }
      return channel;
    };
    if (channel.subscribed) catchUp();
    return channel;
  }

  root.PusherDjango = Object.assign(root.PusherDjango || {}, { batchAuthorizer, config, connect, hideMember, recover, resolveReferences });
})(window);
