/*
 * pusher_django's browser helpers, loaded after pusher-js (no build step, no dependency).
 *
 *   {% load pusher_django %}{% pusher_js_config %}      (in the template, once)
 *   const pusher = PusherDjango.connect();              (in the page's script)
 *
 * connect() builds the pusher-js client for the configured app with one batched
 * authorization request per page; batchAuthorizer() is the handler on its own, for
 * pages that build their client by hand.
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
    return new root.Pusher(page.key, options);
  }

  root.PusherDjango = Object.assign(root.PusherDjango || {}, { batchAuthorizer, config, connect });
})(window);
