"""The REST client tour (docs/reference/client.md), run against soketi by the tests."""

from pusher_django.client import get_client

pusher = get_client()  # configured from settings, pooled connections

pusher.trigger("orders", "order.created", {"id": 42})
pusher.trigger(["a", "b"], "ping", "plain string data", socket_id="1234.5678")  # exclude a socket
pusher.trigger("presence-room-1", "hello", {}, info="user_count")  # hosted Pusher: user counts
pusher.trigger("private-encrypted-room-1", "message", {"text": "hi"})  # encrypted for you

pusher.trigger_batch(
    [  # at most 10 events, one channel each
        {"channel": "a", "name": "e1", "data": {"n": 1}},
        {"channel": "private-encrypted-b", "name": "e2", "data": {"n": 2}, "socket_id": "1.2"},
    ]
)
pusher.send_to_user("42", "notice", {"text": "only for user 42"})

channels = pusher.get_channels()  # {"channels": {"orders": {}, ...}}
pusher.get_channels(filter_by_prefix="presence-", info="user_count")
pusher.get_channel("presence-room-1", info=["user_count"])  # {"occupied": ..., "user_count": ...}
pusher.get_channel("cache-news", info="subscription_count")
pusher.get_users("presence-room-1")  # full name; no prefix is added
pusher.terminate_user_connections("42")

# Local helpers for auth endpoints (no request is sent):
secret = pusher.authorize_channel("1234.5678", "private-encrypted-room-1")["shared_secret"]
pusher.authorize_channel(
    "1234.5678", "presence-room-1", {"user_id": "42", "user_info": {"name": "Ann"}}
)
pusher.authenticate_user("1234.5678", {"id": "42", "user_info": {"name": "Ann"}})
