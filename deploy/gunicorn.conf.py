"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py app:app`.

These can be set from the environment without editing this file:

  GUNICORN_BIND     where to listen (default 127.0.0.1:8000; nginx proxies to it)
  WEB_CONCURRENCY   sync worker processes (default 2 × cores + 1)
  GUNICORN_TIMEOUT  seconds a request may take before its worker is replaced (default 30)
  FORWARDED_ALLOW_IPS  addresses of the proxies whose X-Forwarded-* gunicorn believes
                    (default 127.0.0.1,::1; the app's own ProxyFix: TRUSTED_PROXIES=1)
  GUNICORN_LOG_LEVEL  default info

Sync workers: every request is short (a page, a co-sign, an upload of a few photos), and
nginx in front buffers slow clients, so a worker is never held by a slow phone.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# A request that takes longer than this is stuck (the slowest page renders in well under a
# second); the worker is killed and replaced. On a restart or reload (SIGHUP), workers get
# this long to finish the requests they are serving.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# nginx keeps connections to the upstream open; a little longer than nginx's side.
keepalive = 5

# Replace each worker after about a thousand requests, at staggered times, so a slow leak
# never grows and the workers never restart together.
max_requests = 1000
max_requests_jitter = 100

# The request line, status, size, time taken (µs) and the client as nginx saw it, to
# standard output: journald (systemd) or the container runtime keeps it.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = ('%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(D)sus '
                     '"%(f)s" "%(a)s"')

# The proxies whose X-Forwarded-For / -Proto gunicorn itself trusts (for wsgi.url_scheme).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Load the app once in the master, so workers start fast and share memory.
preload_app = True
# Temporary files of the worker heartbeat in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "civic"


def post_fork(server, worker):
    """A forked worker must not use connections its parent may have opened: each worker
    starts its own database pool (SQLAlchemy's advice for forking servers)."""
    from app import app
    from civic.extensions import db
    with app.app_context():
        db.engine.dispose(close=False)
