#!/usr/bin/env python3
"""The deployment smoke test: the production recipe in deploy/, started for real on loopback.

    .venv/bin/python deploy/smoke.py [--server postgresql://postgres@127.0.0.1:5432/postgres]
                                     [--seconds 5] [--min-ratio 10] [--json]

It creates a throw-away PostgreSQL database on the server (trust auth), migrates it and loads
the demo community (`flask db upgrade`, `flask demo load`), starts gunicorn with
deploy/gunicorn.conf.py and nginx (the Debian package, as a foreground child) with
deploy/nginx/civic.conf rendered for free loopback ports and temporary paths, then checks
through nginx: the public pages, a static file served by nginx itself, the micro-cache, a
resident's login and co-sign, and that nothing a signed-in visitor sees is taken from or
stored in the cache. Last it measures the anonymous decisions archive with wrk: through the
micro-cache, through nginx with the cache bypassed, and straight at gunicorn; the ratio is
the cached rate over the faster of the two uncached ones. Exit status 1 when a check fails
or the ratio is under --min-ratio. Everything it started is stopped and everything it made
(database, temporary directory) removed on the way out, also after a failure or Ctrl-C.

The app runs as in production (CIVIC_ENV=production, TRUSTED_PROXIES=1), so its cookies are
Secure. nginx here listens on plain http (there is no certificate on loopback) and passes
X-Forwarded-Proto: http as it would pass https behind TLS; the test client keeps its own
cookies and sends the Secure session cookie back over loopback, as a browser does over
https. It also sends Referer, as a browser does, because that is what the app's CSRF check
asks of https requests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "civic.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
SLUG = "huayuan"
RESIDENT = ("13800000005", "civic-demo-2026")    # the demo resident (civic/demo.py)
ARCHIVE = f"/c/{SLUG}/decisions/"                # the page whose rate is measured
SIGNED_IN = 'href="/account"'                # the 我的 link in the top bar


class Failed(Exception):
    pass


def check(ok: bool, what: str) -> None:
    if not ok:
        raise Failed(what)
    print(f"  ok  {what}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failed(f"{name} exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise Failed(f"{name} did not listen on port {port} within {seconds:.0f} s")


# -- HTTP, with the cookies kept by hand (they are Secure; this is plain http on loopback) --

class Response:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body
        self.text = body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookie_lines: list[str] = []

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> Response:
        from urllib.parse import urlencode
        h = {"Host": f"127.0.0.1:{self.port}", "User-Agent": "civic-smoke"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
            h["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            resp = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        for line in resp.headers.get_all("Set-Cookie") or []:
            self.set_cookie_lines.append(line)
            for name, morsel in SimpleCookie(line).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return resp

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: dict, **kw) -> Response:
        return self.request("POST", path, form=form, **kw)


def csrf_token(page: Response) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
    if not m:
        raise Failed("no CSRF token in the form")
    return unescape(m.group(1))


# -- the pieces: database, gunicorn, nginx, wrk --

class Stack:
    """Everything started, so that stop() can undo it whatever happened."""

    def __init__(self, server: str):
        self.server = server
        self.tmp = Path(tempfile.mkdtemp(prefix="civic-smoke-"))
        self.dbname = f"civic_smoke_{secrets.token_hex(5)}"
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.process_groups: list[int] = []
        self.db_created = False

    # PostgreSQL
    def _admin(self):
        import psycopg
        return psycopg.connect(self.server, autocommit=True)

    def create_database(self) -> str:
        with self._admin() as c:
            c.execute(f'CREATE DATABASE "{self.dbname}"')
        self.db_created = True
        return self.server.rsplit("/", 1)[0] + "/" + self.dbname

    # processes
    def start(self, name: str, argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        out = log.open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.procs.append((name, proc))
        self.process_groups.append(proc.pid)
        return proc

    def show_logs(self) -> None:
        """The end of each server's log, to see why a check failed."""
        for name in ("gunicorn.log", "nginx.out", "nginx-error.log"):
            log = self.tmp / name
            if log.exists() and log.stat().st_size:
                print(f"--- {name} (end)", file=sys.stderr)
                print(log.read_text(errors="replace")[-3000:], file=sys.stderr)

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)   # its own session: it and its workers
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.procs.clear()
        if self.db_created:
            try:
                with self._admin() as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
                self.db_created = False
            except Exception as e:   # noqa: BLE001 - report, and go on cleaning up
                print(f"could not drop database {self.dbname}: {e}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)


def render_site(gunicorn_port: int, nginx_port: int, cache_dir: Path) -> str:
    """deploy/nginx/civic.conf with the loopback ports and the paths of this run."""
    text = SITE.read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{nginx_port};"),
                     ("listen [::]:80;", ""),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{gunicorn_port};"),
                     ("alias /srv/civic/static/;", f"alias {ROOT}/static/;"),
                     ("proxy_cache_path /var/cache/nginx/civic ",
                      f"proxy_cache_path {cache_dir} ")):
        if text.count(old) != 1:
            raise Failed(f"deploy/nginx/civic.conf should hold {old!r} exactly once")
        text = text.replace(old, new)
    return text


def nginx_conf(tmp: Path, site: str) -> str:
    # Root starts nginx's workers as "nobody", who may not read the checkout or write the
    # temporary directory; this throw-away instance keeps them as the user who started it.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes auto;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    server_tokens off;
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;

{site}
}}
"""


def wrk(url: str, seconds: int, headers: dict | None = None) -> dict:
    argv = [shutil.which("wrk") or "/usr/bin/wrk", "-t2", "-c16", f"-d{seconds}s",
            "--timeout", "5s"]
    for k, v in (headers or {}).items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True,
                         timeout=seconds + 30).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise Failed(f"wrk printed no rate:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rate": float(rate.group(1)), "requests": int(total.group(1)) if total else 0,
            "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else ""}


# -- the test --

def run(args, stack: Stack) -> dict:
    py = sys.executable
    tmp = stack.tmp
    gport, nport = free_port(), free_port()
    db_url = stack.create_database()
    redis = "redis://127.0.0.1:6379/0"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        redis = "memory://"
    env = {**os.environ,
           "DATABASE_URL": db_url,
           "SECRET_KEY": secrets.token_hex(32),
           "CIVIC_ENV": "production",
           "TRUSTED_PROXIES": "1",
           "RATELIMIT_STORAGE_URI": redis,
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{nport}",
           "CIVIC_INSTANCE": str(tmp / "instance"),
           "GUNICORN_BIND": f"127.0.0.1:{gport}",
           "PYTHONDONTWRITEBYTECODE": "1"}
    for k in ("FLASK_APP", "WEB_CONCURRENCY", "CIVIC_TEST_DATABASE_URL"):
        env.pop(k, None)
    print(f"database {stack.dbname}: migrate and load the demo", flush=True)
    for cmd in (["db", "upgrade"], ["demo", "load"]):
        r = subprocess.run([py, "-m", "flask", "--app", "app", *cmd], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, f"flask {' '.join(cmd)}" + ("" if r.returncode == 0
                                                            else f"\n{r.stdout}{r.stderr}"))

    gunicorn_log = tmp / "gunicorn.log"
    gunicorn = stack.start("gunicorn", [py, "-m", "gunicorn", "-c", str(GUNICORN_CONF),
                                        "app:app"], env, gunicorn_log)
    (tmp / "cache").mkdir()
    conf = tmp / "nginx.conf"
    conf.write_text(nginx_conf(tmp, render_site(gport, nport, tmp / "cache")))
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = stack.start("nginx", [nginx_bin, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"),
                                  "-c", str(conf)], env, tmp / "nginx.out")
    wait_for_port(gport, gunicorn, "gunicorn", 60)
    wait_for_port(nport, nginx, "nginx", 15)
    print(f"gunicorn on 127.0.0.1:{gport}, nginx on 127.0.0.1:{nport}", flush=True)

    anon = Client(nport)
    print("public pages through nginx", flush=True)
    home = anon.get("/")
    check(home.status == 200, "/ answers 200")
    community = anon.get(f"/c/{SLUG}/")
    check(community.status == 200 and "花园小区" in community.text, f"/c/{SLUG}/ answers 200")
    issues = anon.get(f"/c/{SLUG}/issues/")
    check(issues.status == 200, f"/c/{SLUG}/issues/ answers 200")
    numbers = sorted({int(n) for n in re.findall(rf'href="/c/{SLUG}/issues/(\d+)/"',
                                                 issues.text)})
    check(bool(numbers), "the issue list links to issues")
    issue = anon.get(f"/c/{SLUG}/issues/{numbers[0]}/")
    check(issue.status == 200, f"/c/{SLUG}/issues/{numbers[0]}/ answers 200")
    check(issue.header("Cache-Control").startswith("public"),
          "an issue page is public for an anonymous reader (no session for its forms)")
    decisions = anon.get(ARCHIVE)
    check(decisions.status == 200, f"{ARCHIVE} answers 200")
    links = re.findall(rf'href="(/c/{SLUG}/issues/\d+/decisions/\d+)"', decisions.text)
    check(bool(links), "the decisions list links to decisions")
    decision = anon.get(links[0])
    check(decision.status == 200, f"{links[0]} answers 200")
    check(anon.get(links[0]).header("X-Cache-Status") == "HIT",
          "a decision page read again comes from the micro-cache")
    stats = anon.get(f"/c/{SLUG}/stats")
    check(stats.status == 200 and "<svg" in stats.text, f"/c/{SLUG}/stats answers 200 with charts")
    check(anon.get("/does-not-exist").status == 404, "an unknown address answers 404")
    check(not anon.cookies, "reading the archive, issues and decisions sets no cookie")

    css = anon.get("/static/css/civic.css", headers={"Accept-Encoding": "gzip"})
    check(css.status == 200 and css.header("Content-Encoding") == "gzip",
          "/static/css/civic.css answers 200, gzipped")
    check("max-age=3600" in css.header("Cache-Control") and bool(css.header("ETag")),
          "the static file has Cache-Control max-age=3600 and an ETag")
    check(not css.header("X-Cache-Status") and not css.header("Content-Security-Policy"),
          "the static file comes from nginx (no proxy cache status, none of the app's headers)")

    print("the micro-cache", flush=True)
    first = anon.get(ARCHIVE)
    check(first.header("X-Cache-Status") in ("HIT", "MISS", "EXPIRED", "UPDATING", "STALE"),
          f"{ARCHIVE} goes through the cache ({first.header('X-Cache-Status')})")
    check("public" in first.header("Cache-Control"), f"{ARCHIVE} is public for anonymous visitors")
    again = anon.get(ARCHIVE)
    check(again.header("X-Cache-Status") == "HIT" and again.body == first.body,
          "the second anonymous read is a cache hit, the same page")
    etag = again.header("ETag")
    check(anon.get(ARCHIVE, headers={"If-None-Match": etag}).status == 304,
          "a reader who has the page gets 304 from the cache")
    zipped = anon.get(ARCHIVE, headers={"Accept-Encoding": "gzip, deflate, br"})
    check(zipped.header("Content-Encoding") == "gzip", "a browser gets the page gzipped")
    check(anon.get(ARCHIVE, headers={"HX-Request": "true"}).header("X-Cache-Status") == "BYPASS",
          "htmx requests bypass the cache")
    login_page = Client(nport).get("/login")
    check(login_page.header("X-Cache-Status") != "HIT" and "private" in
          login_page.header("Cache-Control"), "the login form (a CSRF token) is never cached")

    print("a resident signs in and co-signs", flush=True)
    resident = Client(nport)
    form = resident.get("/login")
    check(form.status == 200 and "session" in resident.cookies, "the login form starts a session")
    signed = resident.post("/login", {"csrf_token": csrf_token(form), "phone": RESIDENT[0],
                                      "password": RESIDENT[1]})
    check(signed.status == 303, f"login answers 303 (got {signed.status})")
    session_lines = [ln for ln in resident.set_cookie_lines if ln.startswith("session=")]
    check(all("Secure" in ln and "HttpOnly" in ln for ln in session_lines),
          "the session cookie is Secure and HttpOnly (production settings)")
    me = resident.get("/?all=1")   # (a resident of one community is sent on to it from /)
    check(me.status == 200 and SIGNED_IN in me.text, "signed in: /?all=1 shows the account")
    check(me.header("X-Cache-Status") == "BYPASS" and "private" in me.header("Cache-Control"),
          "signed-in pages bypass the cache and are private")

    target = None
    for n in numbers:
        page = resident.get(f"/c/{SLUG}/issues/{n}/")
        if re.search(rf'action="/c/{SLUG}/issues/{n}/cosign"', page.text):
            target = (n, page)
            break
    check(target is not None, "an issue collecting signatures offers the resident to co-sign")
    n, page = target
    before = cosign_count(page.text)
    done = resident.post(f"/c/{SLUG}/issues/{n}/cosign", {"csrf_token": csrf_token(page),
                                                          "comment": ""})
    check(done.status in (200, 303), f"co-sign answers {done.status}")
    after_page = resident.get(f"/c/{SLUG}/issues/{n}/")
    after = cosign_count(after_page.text)
    check(after == before + 1, f"issue {n}: co-signs went from {before} to {after}")
    check(after_page.header("X-Cache-Status") == "BYPASS", "the signed-in issue page is not cached")

    mine = resident.get(ARCHIVE)
    check(mine.header("X-Cache-Status") == "BYPASS" and SIGNED_IN in mine.text,
          f"{ARCHIVE} signed in: from the app, with the account")
    public = anon.get(ARCHIVE)
    check(SIGNED_IN not in public.text and public.header("X-Cache-Status") != "BYPASS",
          f"{ARCHIVE} anonymous afterwards: the shared page, nothing personal in it "
          f"({public.header('X-Cache-Status')})")

    log = gunicorn_log.read_text()
    check("/static/" not in log, "gunicorn served no static file")
    client_seen = re.search(r"^127\.0\.0\.1 \"GET / HTTP", log, re.M)
    check(bool(client_seen), "gunicorn's access log records the X-Forwarded-For that nginx sends")

    bypassed = anon.get(ARCHIVE, headers={"Cookie": "session="})
    check(bypassed.header("X-Cache-Status") == "BYPASS" and SIGNED_IN not in bypassed.text,
          "an empty session cookie bypasses the cache (how the uncached rate is measured)")

    print(f"anonymous {ARCHIVE}: wrk, {args.seconds} s each", flush=True)
    results = {}
    for name, port, headers in (("nginx_micro_cache", nport, None),
                                ("nginx_cache_bypassed", nport, {"Cookie": "session="}),
                                ("gunicorn_direct", gport, None)):
        results[name] = r = wrk(f"http://127.0.0.1:{port}{ARCHIVE}", args.seconds, headers)
        print(f"  {name:22} {r['rate']:10.1f} requests/s  ({r['requests']} requests, "
              f"{r['non_2xx']} non-2xx) {r['socket_errors']}", flush=True)
        check(r["non_2xx"] == 0, f"{name}: every response 2xx")
    uncached = max(results["nginx_cache_bypassed"]["rate"], results["gunicorn_direct"]["rate"])
    ratio = results["nginx_micro_cache"]["rate"] / uncached
    print(f"  ratio (micro-cache / uncached): {ratio:.1f}×", flush=True)
    check(ratio >= args.min_ratio,
          f"the micro-cache serves ≥ {args.min_ratio:g}× the uncached rate")
    return {"ratio": round(ratio, 1), "rates": {k: v["rate"] for k, v in results.items()},
            "ratelimit_storage": redis.split(":")[0]}


def cosign_count(html: str) -> int:
    m = re.search(r'<span id="cosign-count"[^>]*>(\d+)', html)
    if not m:
        raise Failed("no co-sign count on the issue page")
    return int(m.group(1))


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--server", default=os.environ.get(
        "CIVIC_SMOKE_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server where a throw-away database may be created")
    p.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    p.add_argument("--min-ratio", type=float, default=10.0)
    p.add_argument("--json", action="store_true", help="print the result as JSON at the end")
    args = p.parse_args(argv)

    stack = Stack(args.server)
    # A TERM (a CI timeout, a test runner) unwinds like Ctrl-C, through the cleanup below.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        result = run(args, stack)
    except Failed as e:
        stack.show_logs()
        print(f"FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stack.stop()
    print("smoke test passed", flush=True)
    if args.json:
        result.update(database=stack.dbname, tmp=str(stack.tmp),
                      process_groups=stack.process_groups)
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
