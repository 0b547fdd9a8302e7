"""Short, unambiguous times for the demo's pages and admin (the columns fit at 1280 px)."""

DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
