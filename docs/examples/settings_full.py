"""Every PUSHER section with its defaults (docs/reference/settings.md)."""

PUSHER = {
    "APP_ID": "123456",
    "KEY": "your-key",
    "SECRET": "your-secret",
    "CLUSTER": "eu",
    "AUTH": {"POLICY": None, "PRESENCE_USER_ID": None, "USER_DATA": None},
    "CELERY": {"QUEUE": None, "MAX_RETRIES": 10, "RETRY_BACKOFF": 1.0, "RETRY_BACKOFF_MAX": 300.0},
    "USERS": {"TERMINATE_ON_DEACTIVATE": True, "TERMINATE_ON_LOGOUT": False},
    "LISTENER": {
        "CHANNELS": [],  # joined by pusher_listen, besides --channel
        "USER_ID": "pusher-django-listener",  # its presence member id and sign-in id
        "USER_INFO": None,  # its presence user_info
        "SIGNIN": True,  # pusher:signin (servers with "authorized connections")
        "ACTIVITY_TIMEOUT": 120.0,  # ping after this much silence (or the server's, if lower)
        "PONG_TIMEOUT": 30.0,  # reconnect when the pong does not come
        "RECONNECT_BACKOFF": 1.0,  # first delay after a failure; doubles, with jitter
        "RECONNECT_BACKOFF_MAX": 60.0,
        "CLIENT_EVENTS_PER_SECOND": 10,  # publish() pacing
        "LOCK_URL": None,  # Redis for --lock (default: CELERY_BROKER_URL)
        "LOCK_TTL": 15.0,  # a dead lock holder is replaced within this many seconds
        "OPEN_TIMEOUT": 10.0,  # seconds for the websocket handshake
    },
    "WEBHOOKS": {
        "ASYNC": False,  # True: verify, enqueue a Celery task, answer at once
        "MAX_AGE": 300,  # seconds; older deliveries are refused (None: no check)
        "DEDUP_TTL": 600,  # seconds a handled event is remembered
        "CACHE": "default",  # cache alias for that memory
    },
    "ADMIN": {"CACHE_SECONDS": 5},  # the channel list is cached this long
    "OUTBOX": {
        "RETENTION": 86400.0,  # seconds sent events are kept (then pruned by the relay)
        "LEASE": 60.0,  # seconds a claimed event is reserved for the worker sending it
        "CLAIM_SIZE": 50,  # events one worker claims at a time (five batch requests)
        "RELAY_INTERVAL": 5.0,  # seconds between passes of `manage.py pusher_outbox`
        "SEND_AT_COMMIT": True,  # the committing process sends its due events (else Celery)
        "COALESCE_WINDOW": 0.0,  # seconds a coalescing broadcast waits for later updates
        "BACKLOG_WARNING": 60.0,  # warn when the oldest pending event is older
        "ID_FIELD": "_pusher_id",  # key of the event id in object data (None: no id)
        "MAX_REFERENCE_BYTES": 1048576,  # largest data sent by reference (large-events.md)
    },
}
