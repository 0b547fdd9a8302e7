// The room page: one pusher-js connection, three channels, no build step.
'use strict';
(function () {
  const channels = JSON.parse(document.getElementById('pusher-channels').textContent);
  const csrfHeaders = { 'X-CSRFToken': PusherDjango.config().csrfToken };
  const ADMIN_TEST_EVENT = 'admin-test'; // the admin's "Trigger a test event" default name

  // {% pusher_js_config %} wrote the app's options; the channels below authorize in one
  // request, and the site's listener is left out of presence.
  // recover(): after a reconnect, messages sent meanwhile arrive once and in order.
  const pusher = PusherDjango.recover(PusherDjango.connect());
  // Signing in lets the admin's "Terminate connections" reach this page.
  pusher.signin();
  // Leave presence at once when the tab goes away (also out of the back/forward cache).
  window.addEventListener('pagehide', () => pusher.disconnect());

  const state = document.getElementById('state');
  const kicked = document.getElementById('kicked');
  const offlineButton = document.getElementById('offline');
  const messageForm = document.getElementById('message-form');
  const sendButton = messageForm.querySelector('button');
  const online = document.getElementById('online');
  let offlineUntil = 0;

  function showState() {
    const current = pusher.connection.state;
    const terminated = !kicked.hidden;
    state.textContent = offlineUntil ? `offline (back in ${Math.max(0, Math.ceil((offlineUntil - Date.now()) / 1000))} s)` : current;
    sendButton.disabled = terminated || current !== 'connected';
    offlineButton.disabled = terminated || Boolean(offlineUntil) || current !== 'connected';
    if (current !== 'connected') online.replaceChildren(); // a stale list would lie
  }
  pusher.connection.bind('state_change', showState);
  pusher.connection.bind('message', (msg) => {
    if (msg.event === 'pusher:error' && msg.data && msg.data.code === 4009) {
      kicked.hidden = false; // pusher-js does not reconnect after 4000-4099 closes
      showState();
    }
  });
  document.getElementById('reconnect').addEventListener('click', () => {
    kicked.hidden = true;
    pusher.connect();
    showState();
  });

  // "Go offline for 10 s" really closes the websocket; recover() fills the gap on return.
  offlineButton.addEventListener('click', () => {
    offlineUntil = Date.now() + 10000;
    pusher.disconnect();
    const tick = setInterval(() => {
      if (Date.now() < offlineUntil) { showState(); return; }
      clearInterval(tick);
      offlineUntil = 0;
      pusher.connect();
      showState();
    }, 250);
    showState();
  });

  // Messages: encrypted channel; pusher-js decrypts with the shared secret from /pusher/auth/.
  const list = document.getElementById('messages');
  function append(item) {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.querySelectorAll('li.empty').forEach((empty) => empty.remove());
    list.append(item);
    if (atBottom || item.classList.contains('mine')) list.scrollTop = list.scrollHeight;
  }
  function showMessage(message, mine) {
    if (list.querySelector(`li[data-id="${message.id}"]`)) return;
    const item = document.createElement('li');
    item.dataset.id = message.id;
    if (mine) item.className = 'mine';
    const author = document.createElement('b');
    author.textContent = message.author;
    item.append(author, ' ', message.text);
    append(item);
  }
  list.scrollTop = list.scrollHeight;
  const messages = pusher.subscribe(channels.messages);
  messages.bind('message.created', (message) => showMessage(message, false));

  // The admin's test event, on any of the room's channels, shows as a line of its own.
  function showAdminEvent(channel) {
    return (data) => {
      const item = document.createElement('li');
      item.className = 'admin-event';
      item.textContent = `admin test event on ${channel}: ${JSON.stringify(data)}`;
      append(item);
    };
  }

  // Posting sends X-Socket-ID, so the broadcast skips this page; the response is shown instead.
  messageForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = new FormData(messageForm);
    const response = await fetch(messageForm.action, {
      method: 'POST', body, headers: { ...csrfHeaders, 'X-Socket-ID': pusher.connection.socket_id || '' },
    });
    if (response.ok) { showMessage(await response.json(), true); messageForm.reset(); }
  });

  // Presence: who is online right now; "Last seen" follows the same events live.
  const lastSeen = new Map(
    JSON.parse(document.getElementById('last-seen-data').textContent)
      .map((entry) => [entry.name, { online: entry.online, at: new Date(entry.at) }]),
  );
  const lastSeenList = document.getElementById('last-seen');
  function ago(date) {
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} days ago`;
  }
  function renderLastSeen() {
    lastSeenList.replaceChildren();
    if (!lastSeen.size) { lastSeenList.append(Object.assign(document.createElement('li'), { textContent: 'nobody yet' })); return; }
    [...lastSeen.entries()].sort((a, b) => b[1].at - a[1].at).forEach(([name, seen]) => {
      const item = document.createElement('li');
      item.dataset.user = name;
      item.textContent = `${name}: ${seen.online ? 'online' : ago(seen.at)}`;
      lastSeenList.append(item);
    });
  }
  setInterval(renderLastSeen, 5000);
  renderLastSeen();

  function memberName(member) {
    return member.info && member.info.name ? member.info.name : member.id;
  }
  function renderMembers(members) {
    online.replaceChildren();
    members.each((member) => {
      const item = document.createElement('li');
      item.dataset.user = member.id;
      item.textContent = memberName(member);
      online.append(item);
      lastSeen.set(memberName(member), { online: true, at: new Date() });
    });
    renderLastSeen();
  }
  const presence = pusher.subscribe(channels.presence);
  ['pusher:subscription_succeeded', 'pusher:member_added'].forEach((name) => {
    presence.bind(name, () => renderMembers(presence.members));
  });
  presence.bind('pusher:member_removed', (member) => {
    lastSeen.set(memberName(member), { online: false, at: new Date() });
    renderMembers(presence.members);
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
  [[messages, channels.messages], [presence, channels.presence], [board, channels.announcement]]
    .forEach(([channel, name]) => channel.bind(ADMIN_TEST_EVENT, showAdminEvent(name)));
  const announcementForm = document.getElementById('announcement-form');
  announcementForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await fetch(announcementForm.action, { method: 'POST', body: new FormData(announcementForm), headers: csrfHeaders });
    announcementForm.reset();
  });
  showState();
}());
