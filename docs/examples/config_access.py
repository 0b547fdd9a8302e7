"""Reading the configuration from code (docs/reference/settings.md).

Run with PUSHER["LISTENER"]["CHANNELS"] = ["presence-lobby", "presence-lobby"].
"""

from pusher_django.conf import get_config

config = get_config()  # raises PusherConfigurationError, naming every problem
assert config.listener.pong_timeout == 30.0  # a float even when the setting says 30
assert config.listener.channels == ("presence-lobby",)  # a tuple, duplicates removed
assert config.outbox.lease == 60.0
assert config.celery.queue is None
assert config.webhooks.asynchronous is False  # WEBHOOKS["ASYNC"]
