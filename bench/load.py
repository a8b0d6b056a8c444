"""Load benchmark: the app against bare Flask endpoints doing the same database work, in
the same run (QUALITY.md §5). See bench/README.md.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/civic_bench \\
        .venv/bin/python bench/load.py --duration 10 --rounds 3

The database must hold the generated data set (`flask --app app bench generate`). gunicorn
servers are started on loopback with the same number of sync workers: the app as deployed,
the app rendering every page, `bench/bare.py` and, with --ablate, `bench/ablated.py` (the app
with parts of its co-sign taken out); wrk (bounded by --duration) sends each scenario's
requests to each in turn, for --rounds rounds. Results are printed as a table and written as
JSON to bench/results/.

Co-signs are sent by distinct households (every request a different resident account, to
an issue of their community that takes co-signs and that their household has not signed),
as htmx form posts with each account's own session cookie and CSRF token — what the app's
co-sign button sends. After each run the rows are counted: none lost (every 200 has its
row), none doubled (every touched issue's counter equals its rows). The run adds real
co-signs to the database; regenerate it for a pristine data set.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LUA = ROOT / "bench" / "requests.lua"
#: what requests.lua sends as its User-Agent (a login session is bound to it)
USER_AGENT = "civic-bench"
SIGNABLE = ("collecting", "awaiting_triage", "accepted", "in_consultation")
PAGES = ("issue_list", "issue_page", "archive_list", "decision_page", "stats_page")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sa_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Server:
    """A gunicorn on loopback, stopped on exit."""

    def __init__(self, target: str, workers: int, env: dict, log: Path):
        self.port = free_port()
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-k", "sync",
             "-b", f"127.0.0.1:{self.port}", "--backlog", "256", target],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait(self, path: str) -> None:
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.base + path, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{self.base}{path} did not come up; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def wrk(base: str, lines: list[str], workdir: Path, name: str, duration: int,
        threads: int, connections: int) -> dict:
    """Run wrk over these request lines; the RESULT line of requests.lua, parsed."""
    f = workdir / f"{name}.txt"
    f.write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
         "--timeout", "10s", "-s", str(LUA), base, "--", str(f), str(threads)],
        capture_output=True, text=True, check=True).stdout
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        raise SystemExit(f"wrk printed no result:\n{out}")
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def _proc_stats():
    """(pid, parent pid, command, CPU seconds) of every process, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
        except OSError:   # gone meanwhile
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        yield int(stat.parent.name), int(fields[1]), comm, \
            (int(fields[11]) + int(fields[12])) / tick


def cpu_seconds(server: "Server") -> tuple[float, float]:
    """CPU time used so far by the server's workers, and by PostgreSQL's processes."""
    workers = postgres = 0.0
    for _pid, ppid, comm, cpu in _proc_stats():
        if ppid == server.proc.pid:
            workers += cpu
        elif comm.startswith("postgres"):
            postgres += cpu
    return workers, postgres


def warm(base: str, lines: list[str]) -> None:
    """Every distinct GET once, four at a time."""
    from concurrent.futures import ThreadPoolExecutor
    paths = sorted({line.split("\t")[1] for line in lines})

    def get(path):
        with urllib.request.urlopen(base + path, timeout=30) as r:
            r.read()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(get, paths))


# --- what to request ----------------------------------------------------------------------

def page_lines(conn, rng: random.Random) -> dict[str, tuple[list[str], list[str]]]:
    """For each page scenario: (app request lines, bare request lines), the same objects in
    the same order, spread over every community."""
    comms = conn.execute(text("SELECT id, slug FROM community ORDER BY id")).all()
    issues = conn.execute(text(
        "SELECT i.id, i.number, c.slug FROM issue i JOIN community c ON c.id = i.community_id"
        " WHERE i.state <> 'draft' AND i.hidden_at IS NULL ORDER BY i.id")).all()
    decisions = conn.execute(text(
        "SELECT d.id, i.number, d.version, c.slug FROM decision d JOIN issue i"
        " ON i.id = d.issue_id JOIN community c ON c.id = d.community_id ORDER BY d.id")).all()
    issues = rng.sample(issues, min(500, len(issues)))
    decisions = rng.sample(decisions, min(500, len(decisions)))

    def get(paths):
        return [f"GET\t{p}\t\t" for p in paths]

    return {
        "issue_list": (get(f"/c/{s}/issues/" for _, s in comms),
                       get(f"/issues/{i}" for i, _ in comms)),
        "issue_page": (get(f"/c/{s}/issues/{n}/" for _, n, s in issues),
                       get(f"/issue/{i}" for i, _, _ in issues)),
        "archive_list": (get(f"/c/{s}/decisions/" for _, s in comms),
                         get(f"/decisions/{i}" for i, _ in comms)),
        "decision_page": (get(f"/c/{s}/issues/{n}/decisions/{v}" for _, n, v, s in decisions),
                          get(f"/decision/{i}" for i, _, _, _ in decisions)),
        "stats_page": (get(f"/c/{s}/stats" for _, s in comms),
                       get(f"/stats/{i}" for i, _ in comms)),
    }


def cosign_pairs(conn, rng: random.Random, n: int) -> list[tuple]:
    """n (issue id, issue number, slug, unit id, user id, session token) with every user
    distinct, each to a co-signable issue of their community their household has not
    signed."""
    issues = defaultdict(list)
    for row in conn.execute(text(
            "SELECT i.id, i.number, c.slug, i.community_id FROM issue i JOIN community c"
            " ON c.id = i.community_id WHERE i.hidden_at IS NULL AND i.state IN"
            " ('collecting', 'awaiting_triage', 'accepted', 'in_consultation')"
            " AND (i.state <> 'collecting' OR i.expires_at > :now)"),
            {"now": datetime.now(timezone.utc)}):
        issues[row.community_id].append(row)
    signed = {tuple(r) for r in conn.execute(text(
        "SELECT s.issue_id, s.unit_id FROM cosign s JOIN issue i ON i.id = s.issue_id"
        " WHERE i.state IN ('collecting', 'awaiting_triage', 'accepted', 'in_consultation')"))}
    members = conn.execute(text(
        "SELECT m.community_id, m.unit_id, u.id, u.session_token FROM membership m"
        " JOIN user_account u ON u.id = m.user_id WHERE m.role = 'resident'"
        " AND m.status = 'active' AND u.deleted_at IS NULL AND u.phone LIKE '170%'"
        " ORDER BY u.id")).all()
    rng.shuffle(members)
    out = []
    for cid, unit, user, token in members:
        choices = [i for i in issues.get(cid, ()) if (i.id, unit) not in signed]
        if not choices:
            continue
        i = rng.choice(choices)
        out.append((i.id, i.number, i.slug, unit, user, token))
        if len(out) == n:
            return out
    raise SystemExit(f"only {len(out)} households can co-sign; regenerate the data set")


def sessions(pairs, secret_key: str) -> list[tuple[str, str]]:
    """A signed-in session cookie and a CSRF token for each pair's account, as the app
    issues them at login (flask_login.login_user, for the requests.lua client: loopback,
    User-Agent civic-bench), so the app reads the session and never rewrites it."""
    os.environ.setdefault("DATABASE_URL", "sqlite://")
    from types import SimpleNamespace

    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from civic import create_app
    app = create_app({"SECRET_KEY": secret_key, "SECRET_KEY_FALLBACKS": []})
    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    out = []
    for *_, token in pairs:
        with app.test_request_context(headers={"User-Agent": USER_AGENT},
                                      environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            login_user(SimpleNamespace(get_id=lambda t=token: t, is_active=True))
            csrf = generate_csrf()
            out.append((f"{name}={serializer.dumps(dict(session))}", csrf))
    return out


def check_cosigns(conn, pairs, issued: list[int], threads: int, ok: int) -> dict:
    """Which of these pairs were sent (from wrk's per-thread counts), how many rows exist,
    and whether every touched issue's counter equals its rows."""
    sent = set()
    for t, k in enumerate(issued):
        mine = pairs[t::threads]
        sent.update((p[0], p[3]) for p in mine[:k])
    wanted = {(p[0], p[3]) for p in pairs}
    issue_ids = sorted({p[0] for p in pairs})
    rows = {tuple(r) for r in conn.execute(text(
        "SELECT issue_id, unit_id FROM cosign WHERE issue_id = ANY(:ids)"), {"ids": issue_ids})}
    stored = rows & wanted
    mismatched = conn.execute(text(
        "SELECT count(*) FROM issue i WHERE i.id = ANY(:ids) AND i.cosign_count <>"
        " (SELECT count(*) FROM cosign s WHERE s.issue_id = i.id)"), {"ids": issue_ids}).scalar()
    return {"sent": len(sent), "ok_responses": ok, "rows": len(stored),
            "rows_not_sent": len(stored - sent), "lost": max(0, ok - len(stored)),
            "counter_mismatches": mismatched}


# --- the run ------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="app/bare alternations per scenario")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn sync workers, each server")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--connections", type=int, default=4, help="wrk connections (pages)")
    ap.add_argument("--cosign-connections", type=int, default=8)
    ap.add_argument("--cosign-duration", type=int, default=8,
                    help="seconds per co-sign run (each needs 1500 households a second)")
    ap.add_argument("--cosign-rounds", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated scenarios (cosign, pages…)")
    ap.add_argument("--ablate", default="",
                    help="co-sign also on the app with these parts taken out (audit, limit,"
                    " answer, user; bench/ablated.py): how near the target their cost leaves it")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache-redis", default="redis://127.0.0.1:6379/15",
                    help="the app's shared store (CACHE_REDIS_URL and RATELIMIT_STORAGE_URI; "
                    "flushed); '' for per-process")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must name the PostgreSQL database holding the data set")
    only = set(filter(None, args.only.split(","))) or {"cosign", *PAGES}
    rng = random.Random(args.seed)
    engine = create_engine(sa_url(url))
    tmp = Path(tempfile.mkdtemp(prefix="civic-load-"))
    secret = "bench-" + os.urandom(8).hex()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secret,
           "CIVIC_INSTANCE": str(tmp / "instance"), "PYTHONDONTWRITEBYTECODE": "1"}
    with engine.connect() as conn:
        if not conn.execute(text("SELECT count(*) FROM issue")).scalar():
            raise SystemExit("no issues: generate the data set first (see bench/README.md)")
        counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                  for t in ("community", "unit", "issue", "cosign", "decision", "expense")}
        pages = page_lines(conn, rng)
        pg = conn.execute(text("SHOW server_version")).scalar()
    if args.cache_redis:
        import redis
        redis.Redis.from_url(args.cache_redis).flushdb()
    # as deployed (deploy/README.md): rate limits counted in Redis, shared by the workers
    limits = {"RATELIMIT_STORAGE_URI": args.cache_redis} if args.cache_redis else {}
    servers = {"app": Server("app:app", args.workers,
                             {**env, **limits, "CACHE_REDIS_URL": args.cache_redis},
                             tmp / "app.log"),
               "rendered": Server("app:app", args.workers,
                                  {**env, **limits, "CIVIC_PAGE_CACHE": "0"},
                                  tmp / "rendered.log"),
               "bare": Server("bench.bare:app", args.workers, env, tmp / "bare.log")}
    if args.ablate:
        servers["ablated"] = Server("bench.ablated:app", args.workers,
                                    {**env, **limits, "CACHE_REDIS_URL": args.cache_redis,
                                     "CIVIC_BENCH_ABLATE": args.ablate}, tmp / "ablated.log")
    results: dict = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "rows": counts, "postgresql": pg, "args": vars(args), "scenarios": {}}
    try:
        servers["app"].wait("/")
        servers["rendered"].wait("/")
        servers["bare"].wait("/ping")
        if "ablated" in servers:
            servers["ablated"].wait("/")
        for name in PAGES:
            if name not in only:
                continue
            app_lines, bare_lines = pages[name]
            plan = (("bare", bare_lines), ("app", app_lines), ("rendered", app_lines))
            # warm up: every page once (connections, the app's store of pages, the OS's
            # file cache), then a moment of load
            for who, lines in plan:
                warm(servers[who].base, lines)
                wrk(servers[who].base, lines, tmp, f"{name}-{who}-warm", 2, args.threads,
                    args.connections)
            runs = defaultdict(list)
            for _ in range(args.rounds):
                for who, lines in plan:
                    r = wrk(servers[who].base, lines, tmp, f"{name}-{who}", args.duration,
                            args.threads, args.connections)
                    if r["non200"] or r["socket_errors"]:
                        raise SystemExit(f"{name} on {who}: {r}")
                    runs[who].append(r)
            results["scenarios"][name] = summarise(runs)
            report(name, results["scenarios"][name])
        if "cosign" in only:
            results["scenarios"]["cosign"] = cosign_scenario(args, engine, rng, servers, tmp,
                                                             secret)
            report("cosign", results["scenarios"]["cosign"])
    finally:
        for s in servers.values():
            s.stop()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"load-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nwritten to {path}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


#: seconds of co-signing each server does, unmeasured, before the measured runs (a
#: worker's first requests compile templates and fill its connection pool)
COSIGN_WARM = 2


#: households set aside per second of a co-sign run, so that none repeats: more than the
#: fastest rate seen on the bare endpoint (≈ 930/s) and on the app (≈ 160/s)
COSIGN_RATE = {"bare": 1500, "row_lock": 1500, "app": 600, "ablated": 600}


def cosign_scenario(args, engine, rng, servers, tmp, secret) -> dict:
    order = ("bare", "row_lock", "app") + (("ablated",) if "ablated" in servers else ())
    # a warm-up run for each, then the measured rounds; every run is checked
    plan = [(who, COSIGN_WARM, False) for who in order] + [
        (order[k % len(order)], args.cosign_duration, True)
        for k in range(args.cosign_rounds * len(order))]
    with engine.connect() as conn:
        pairs = cosign_pairs(conn, rng, sum(d * COSIGN_RATE[w] for w, d, _m in plan))
    cookies = sessions(pairs, secret)
    runs, checks = defaultdict(list), defaultdict(list)
    start = 0
    for who, duration, measured in plan:
        chunk = range(start, start + duration * COSIGN_RATE[who])
        start = chunk.stop
        batch = [pairs[j] for j in chunk]
        if who in ("app", "ablated"):
            lines = [f"POST\t/c/{slug}/issues/{num}/cosign\t{cookies[j][0]}\t"
                     f"csrf_token={cookies[j][1]}"
                     for j, (_, num, slug, *_r) in zip(chunk, batch)]
        else:
            route = "cosign" if who == "bare" else "cosign-row-lock"
            lines = [f"POST\t/{route}/{i}/{unit}/{user}\t\t"
                     for i, _, _, unit, user, _t in batch]
        server = servers["bare" if who in ("bare", "row_lock") else who]
        before = cpu_seconds(server)
        r = wrk(server.base, lines, tmp, f"cosign-{who}", duration, args.threads,
                args.cosign_connections)
        time.sleep(1)   # let requests still in flight when wrk stopped finish
        after = cpu_seconds(server)
        # CPU per answered request: of the server's workers, of PostgreSQL
        r["cpu_ms"], r["postgres_cpu_ms"] = ((a - b) * 1000 / max(r["requests"], 1)
                                             for a, b in zip(after, before))
        with engine.connect() as conn:
            c = check_cosigns(conn, batch, r["issued"], args.threads,
                              r["requests"] - r["non200"])
        if r["non200"] or r["socket_errors"] or c["lost"] or c["rows_not_sent"] \
                or c["counter_mismatches"] or any(n > len(batch) // args.threads
                                                  for n in r["issued"]):
            raise SystemExit(f"co-sign on {who}: {r} {c}")
        if measured:
            r["check"] = c
            runs[who].append(r)
            checks[who].append(c)
    out = summarise(runs)
    out["check"] = {who: {k: sum(c[k] for c in cs) for k in cs[0]} for who, cs in checks.items()}
    return out


def summarise(runs: dict) -> dict:
    out = {}
    for who, rs in runs.items():
        out[who] = {"rps": statistics.median(r["rps"] for r in rs),
                    "p50_ms": statistics.median(r["p50"] for r in rs) / 1000,
                    "p99_ms": statistics.median(r["p99"] for r in rs) / 1000,
                    "requests": sum(r["requests"] for r in rs), "runs": len(rs)}
        if "cpu_ms" in rs[0]:
            out[who]["cpu_ms"] = statistics.median(r["cpu_ms"] for r in rs)
            out[who]["postgres_cpu_ms"] = statistics.median(r["postgres_cpu_ms"] for r in rs)
    for who in runs:
        if who != "bare":
            out[who]["throughput_ratio"] = out[who]["rps"] / out["bare"]["rps"]
            out[who]["p50_ratio"] = out[who]["p50_ms"] / out["bare"]["p50_ms"]
    if "row_lock" in runs:
        out["app"]["throughput_ratio_to_row_lock"] = out["app"]["rps"] / out["row_lock"]["rps"]
    return out


def report(name: str, s: dict) -> None:
    b = s["bare"]
    print(f"{name:14} bare     {b['rps']:7.1f}/s p50 {b['p50_ms']:6.1f} ms"
          f" p99 {b['p99_ms']:6.1f} ms", flush=True)
    for who in ("app", "rendered", "row_lock", "ablated"):
        if who in s:
            a = s[who]
            print(f"{'':14} {who:8} {a['rps']:7.1f}/s p50 {a['p50_ms']:6.1f} ms"
                  f" p99 {a['p99_ms']:6.1f} ms | throughput {a['throughput_ratio']:.0%} of"
                  f" bare, p50 {a['p50_ratio']:.2f}× bare", flush=True)
    if "row_lock" in s:
        print(f"{'':14} app {s['app']['throughput_ratio_to_row_lock']:.0%} of the bare"
              " endpoint with the row lock only", flush=True)
        for who in ("bare", "row_lock", "app", "ablated"):
            if who not in s:
                continue
            print(f"{'':14} CPU per co-sign, {who}: {s[who]['cpu_ms']:.2f} ms in its"
                  f" workers, {s[who]['postgres_cpu_ms']:.2f} ms in PostgreSQL", flush=True)
    if "check" in s:
        print(f"{'':14} {s['check']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
