#!/usr/bin/env python3
"""Lighthouse (mobile) on the main pages of a throw-away demo instance.

    python bench/lighthouse.py [--runs 3] [--workers 2]

Installs the Lighthouse pinned in bench/package.json (into bench/node_modules, git-ignored)
if it is not there, creates a SQLite instance in a temporary directory, migrates it and loads
the demo community, serves it with gunicorn on 127.0.0.1 (a free port), runs Lighthouse with
its default mobile settings (simulated throttling) on each page, writes the JSON reports to
bench/results/lighthouse/ and prints a table. With several runs the table shows, per page, the
lowest performance score and the median of each metric. The server is stopped at the end,
whatever happens. Chromium is taken from CHROME_PATH (default /usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LIGHTHOUSE = BENCH / "node_modules" / ".bin" / "lighthouse"
RESULTS = BENCH / "results" / "lighthouse"
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update --disable-sync --no-first-run --disable-quic")
CATEGORIES = "performance,accessibility,best-practices,seo"
SLUG = "huayuan"


def venv_bin(name: str) -> str:
    """A tool next to the running Python (the project's venv), else from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def ensure_lighthouse() -> None:
    if LIGHTHOUSE.exists():
        return
    print("Installing Lighthouse (bench/package-lock.json) …", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def wait_until_up(base: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            get(base + "/")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def main_pages(base: str) -> list[tuple[str, str]]:
    """The pages to measure; the issue and decision are the first ones the lists link to."""
    c = f"/c/{SLUG}"
    issues = get(base + f"{c}/issues/")
    issue = re.search(rf'href="({c}/issues/\d+/)"', issues)
    decisions = get(base + f"{c}/decisions/")
    decision = re.search(rf'href="({c}/issues/\d+/decisions/\d+)"', decisions)
    if not issue or not decision:
        raise SystemExit("no issue or decision linked from the demo lists")
    return [
        ("首页", "/"),
        ("小区", f"{c}/"),
        ("议题列表", f"{c}/issues/"),
        ("议题", issue.group(1)),
        ("决定列表", f"{c}/decisions/"),
        ("决定", decision.group(1)),
        ("统计", f"{c}/stats"),
        ("登录", "/login"),
    ]


def run_lighthouse(url: str, out: Path, env: dict) -> dict:
    proc = subprocess.Popen(
        [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
         f"--only-categories={CATEGORIES}", f"--chrome-flags={CHROME_FLAGS}"], env=env)
    try:
        code = proc.wait(timeout=300)
    except BaseException:
        # Lighthouse closes the Chromium it started on SIGINT; a kill would leave it running.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    if code:
        raise SystemExit(f"lighthouse exited with {code} on {url}")
    return json.loads(out.read_text())


def _exit_on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def summarise(report: dict) -> dict:
    cats, audits = report["categories"], report["audits"]
    items = audits["network-requests"]["details"]["items"]
    return {
        "perf": round(cats["performance"]["score"] * 100),
        "a11y": round(cats["accessibility"]["score"] * 100),
        "bp": round(cats["best-practices"]["score"] * 100),
        "seo": round(cats["seo"]["score"] * 100),
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "si": audits["speed-index"]["numericValue"],
        "kb": sum(i.get("transferSize", 0) for i in items) / 1024,
        "requests": len(items),
    }


def combine(runs: list[dict]) -> dict:
    """Lowest score of each category, median of each metric."""
    scores = ("perf", "a11y", "bp", "seo")
    return {key: (min if key in scores else statistics.median)([r[key] for r in runs])
            for key in runs[0]}


def table(rows: list[tuple[str, str, dict]], runs: int) -> str:
    head = ("| page | path | perf | a11y | best pr. | SEO | FCP | LCP | TBT | CLS | SI "
            "| transfer | requests |")
    lines = [head, "|" + "---|" * 13]
    for name, path, s in rows:
        lines.append(
            f"| {name} | `{path}` | {s['perf']} | {s['a11y']} | {s['bp']} | {s['seo']} "
            f"| {s['fcp'] / 1000:.1f} s | {s['lcp'] / 1000:.1f} s | {s['tbt']:.0f} ms "
            f"| {s['cls']:.3f} | {s['si'] / 1000:.1f} s | {s['kb']:.1f} KB | {s['requests']:g} |")
    note = (f"{runs} runs per page: lowest score per category, median of each metric."
            if runs > 1 else "1 run per page.")
    return "\n".join(lines) + "\n\n" + note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (default 3)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = ap.parse_args()

    for sig in (signal.SIGTERM, signal.SIGHUP):  # stop the server on these too, not only ^C
        signal.signal(sig, _exit_on_signal)
    ensure_lighthouse()
    chrome = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
    RESULTS.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix="civic-lighthouse-"))
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CIVIC_ENV")}
    env.update(CIVIC_INSTANCE=str(tmp), DATABASE_URL=f"sqlite:///{tmp / 'civic.db'}",
               CHROME_PATH=chrome)
    flask = [venv_bin("flask"), "--app", "app"]
    server = None
    try:
        for step in (["db", "upgrade"], ["demo", "load"]):
            done = subprocess.run(flask + step, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode:
                sys.stderr.write(done.stdout + done.stderr)
                raise SystemExit(f"flask {' '.join(step)} failed")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [venv_bin("gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "app:app"],
            cwd=ROOT, env=env, start_new_session=True)
        wait_until_up(base, server)

        version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        print(f"Lighthouse {version}, {chrome}, gunicorn on {base}, {args.runs} run(s) per page",
              flush=True)
        rows = []
        for i, (name, path) in enumerate(main_pages(base), 1):
            runs = []
            for n in range(1, args.runs + 1):
                out = RESULTS / f"{i:02d}-{path.strip('/').replace('/', '_') or 'home'}-{n}.json"
                runs.append(summarise(run_lighthouse(base + path, out, env)))
                print(f"  {path} run {n}: performance {runs[-1]['perf']}", flush=True)
            rows.append((name, path, combine(runs)))
        print()
        print(table(rows, args.runs))
        print(f"\nReports: {RESULTS.relative_to(ROOT)}/")
        return 0 if all(s["perf"] >= 95 for _, _, s in rows) else 1
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
