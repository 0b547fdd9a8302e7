"""The Overview page's settings (docs/operating.md); the tests add the credentials."""

PUSHER = {
    # ...
    "HEALTH": {
        "CACHE": "default",  # an alias of settings.CACHES that every process shares
        "HEARTBEAT": 5.0,  # seconds between a listener replica's heartbeats
    },
}
