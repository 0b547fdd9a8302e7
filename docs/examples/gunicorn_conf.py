"""Prometheus multiprocess mode under gunicorn (docs/operating.md)."""

# gunicorn.conf.py
from prometheus_client import multiprocess


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)
