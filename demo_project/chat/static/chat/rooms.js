// The room list: every room's presence channel, all authorized by one batch request.
'use strict';
(function () {
  const presence = JSON.parse(document.getElementById('room-presence').textContent);
  const pusher = PusherDjango.connect();
  window.addEventListener('pagehide', () => pusher.disconnect());
  Object.entries(presence).forEach(([room, name]) => {
    const label = document.querySelector(`li[data-room="${room}"] .online-count`);
    const channel = pusher.subscribe(name);
    const show = () => { label.textContent = `${channel.members.count} online`; };
    ['pusher:subscription_succeeded', 'pusher:member_added', 'pusher:member_removed'].forEach((event) => channel.bind(event, show));
    channel.bind('pusher:subscription_error', () => { label.textContent = 'not allowed'; });
  });
}());
