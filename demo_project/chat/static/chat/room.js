// The room page: one pusher-js connection, three channels, no build step.
'use strict';
(function () {
  const channels = JSON.parse(document.getElementById('pusher-channels').textContent);
  const csrfHeaders = { 'X-CSRFToken': PusherDjango.config().csrfToken };

  // {% pusher_js_config %} wrote the app's options; the channels below authorize in one request.
  // recover(): after a reconnect, messages sent meanwhile arrive once and in order.
  const pusher = PusherDjango.recover(PusherDjango.connect());
  // Signing in lets the admin's "Terminate connections" reach this page.
  pusher.signin();
  // Leave presence at once when the tab goes away (also out of the back/forward cache).
  window.addEventListener('pagehide', () => pusher.disconnect());

  const state = document.getElementById('state');
  pusher.connection.bind('state_change', (s) => { state.textContent = s.current; });
  pusher.connection.bind('message', (msg) => {
    if (msg.event === 'pusher:error' && msg.data && msg.data.code === 4009) {
      document.getElementById('kicked').hidden = false;
    }
  });

  // Messages: encrypted channel; pusher-js decrypts with the shared secret from /pusher/auth/.
  const list = document.getElementById('messages');
  function showMessage(message, mine) {
    if (list.querySelector(`li[data-id="${message.id}"]`)) return;
    const item = document.createElement('li');
    item.dataset.id = message.id;
    if (mine) item.className = 'mine';
    const author = document.createElement('b');
    author.textContent = message.author;
    item.append(author, ' ', message.text);
    list.append(item);
  }
  pusher.subscribe(channels.messages).bind('message.created', (message) => showMessage(message, false));

  // Posting sends X-Socket-ID, so the broadcast skips this page; the response is shown instead.
  const messageForm = document.getElementById('message-form');
  messageForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = new FormData(messageForm);
    const response = await fetch(messageForm.action, {
      method: 'POST', body, headers: { ...csrfHeaders, 'X-Socket-ID': pusher.connection.socket_id || '' },
    });
    if (response.ok) { showMessage(await response.json(), true); messageForm.reset(); }
  });

  // Presence: who is online right now.
  const online = document.getElementById('online');
  function renderMembers(members) {
    online.replaceChildren();
    members.each((member) => {
      const item = document.createElement('li');
      item.dataset.user = member.id;
      item.textContent = member.info && member.info.name ? member.info.name : member.id;
      online.append(item);
    });
  }
  const presence = pusher.subscribe(channels.presence);
  ['pusher:subscription_succeeded', 'pusher:member_added', 'pusher:member_removed'].forEach((name) => {
    presence.bind(name, () => renderMembers(presence.members));
  });

  // Announcement: a cache channel delivers the last one at once, or a cache miss.
  const announcement = document.getElementById('announcement');
  const board = pusher.subscribe(channels.announcement);
  board.bind('announcement', (data) => {
    announcement.className = '';
    announcement.textContent = data.text || '(cleared)';
  });
  board.bind('pusher:cache_miss', () => {
    announcement.className = 'missing';
    announcement.textContent = 'No announcement cached (cache miss).';
  });
  const announcementForm = document.getElementById('announcement-form');
  announcementForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await fetch(announcementForm.action, { method: 'POST', body: new FormData(announcementForm), headers: csrfHeaders });
    announcementForm.reset();
  });
}());
