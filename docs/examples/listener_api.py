"""The listener from Python (docs/reference/listener.md), run against soketi by the tests."""

from pusher_django.listener import Listener

listener = Listener(["presence-lobby", "private-encrypted-ops"])
listener.start()  # background thread; run() blocks instead
listener.wait_connected(10)
listener.subscribe("private-alerts")  # now and after every reconnect
listener.publish("private-encrypted-ops", "deploy", {"version": "1.2"}).result(5)
print(listener.state, listener.socket_id, listener.members("presence-lobby"))
listener.unsubscribe("private-alerts")
listener.stop()
