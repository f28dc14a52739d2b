"""gunicorn settings for Tributary's web processes (scripts/serve.sh uses them):
`gunicorn -c scripts/gunicorn.conf.py`. Each value can be changed from the environment."""

import multiprocessing
import os

wsgi_app = "service:create_app()"
bind = os.environ.get("TRIBUTARY_BIND", "127.0.0.1:8000")
# Sync workers: the pages are CPU-bound Python; one per core plus one to cover waits.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("TRIBUTARY_WEB_THREADS", "1"))
# A request longer than this is killed (an upload of the largest accepted SBOM takes
# seconds); on SIGTERM a worker gets graceful_timeout to finish what it serves.
timeout = int(os.environ.get("TRIBUTARY_WEB_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("TRIBUTARY_WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Each worker builds its own app and its own connection pool after the fork.
preload_app = False
# Replace workers now and then so a slow leak cannot grow for ever.
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("TRIBUTARY_ACCESS_LOG", "-")
# One line per request with the request id the app logs under (X-Request-ID).
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s ua="%(a)s"'
errorlog = "-"
# Behind a proxy on another host, name it here so X-Forwarded-Proto is believed.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    # A worker that is gone no longer counts in the live gauges of /metrics.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
