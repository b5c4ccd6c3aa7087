"""Load test at the demo's size and at 10x it: Kobling in production settings (gunicorn from
``scripts/serve web`` on PostgreSQL, Redis as cache and broker), Locust with the three roles'
journeys (benchmarks/locustfile.py) at 10 and 50 users, and the load average while it runs.

    .venv/bin/pip install -e '.[load]'
    .venv/bin/python -m benchmarks.load                # print the table
    .venv/bin/python -m benchmarks.load --write-docs   # and replace it in docs/benchmarks.md

Each size gets a new database (``kobling_load_x1``, ``kobling_load_x10``; dropped first) made by
``scripts/serve release`` as the owner role, geodata and ``seed_demo --scale N`` as in the demo
(the demo's public logins, so never on a server with real data), then the web processes as the
service's role. Locust runs on the same machine, so it takes part of the same two cores; the
load average says how busy the machine was. A second table gives each route's time inside the
service, from its own log line per request: what Locust sees beyond it is waiting for a process,
a thread or the network. Needs PostgreSQL with a superuser (LOAD_POSTGRES,
default postgres@127.0.0.1) and Redis (LOAD_REDIS, default 127.0.0.1:6379, databases 12-13,
flushed).
"""

import argparse
import csv
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
PYTHON = str(BASE_DIR / ".venv" / "bin" / "python")
LOCUST = str(BASE_DIR / ".venv" / "bin" / "locust")
POSTGRES = os.environ.get("LOAD_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("LOAD_REDIS", "redis://127.0.0.1:6379")
OWNER, APP = "kobling_load_owner", "kobling_load_app"
PUBLIC_HOST = "kobling.example.no"
PORT = 8431
BEGIN, END = "<!-- BEGIN LOAD -->", "<!-- END LOAD -->"
# The service's own defaults (config/settings.py: WEB_WORKERS, WEB_THREADS).
DEFAULT_WORKERS, DEFAULT_THREADS = 2, 4
DEFAULT_WEB = f"its defaults, {DEFAULT_WORKERS} processes x {DEFAULT_THREADS} threads"


@dataclass
class PageFigures:
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float


@dataclass
class LoadRun:
    scale: int
    users: int
    seconds: int
    requests_per_second: float
    failures: int
    pages: list[PageFigures]
    load_average: list[float] = field(default_factory=list)
    # Per route, the time inside the service (its log), as opposed to what Locust waited.
    service: list[PageFigures] = field(default_factory=list)


def sh(*args: str, env: dict | None = None, timeout: int = 1800) -> str:
    done = subprocess.run(
        args, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def psql(sql: str) -> None:
    sh("psql", f"{POSTGRES}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql)


def roles_ensure() -> None:
    for role, extra in ((OWNER, "CREATEDB"), (APP, "")):
        psql(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{role}') THEN CREATE ROLE {role} LOGIN {extra}; END IF; END $$"
        )


def database_url(role: str, database: str) -> str:
    host = POSTGRES.split("@", 1)[1]
    return f"postgres://{role}@{host}/{database}"


def base_env(tmp: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **inherited,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "SITE_URL": f"https://{PUBLIC_HOST}",
        "STATIC_ROOT": str(tmp / "static"),
        "EMAIL_URL": f"filemail://{tmp / 'mail'}",
        "CACHE_URL": f"{REDIS}/12",
        "CELERY_BROKER_URL": f"{REDIS}/13",
        "DATABASE_APP_ROLE": APP,
    }


def database_prepare(scale: int, env: dict[str, str]) -> str:
    """A new database: migrated and static files collected by the release step, then the
    demo's rows (its seeding is refused under production settings, so it runs as the demo).
    Returns the usernames of volunteers for the volunteers' journeys."""
    name = f"kobling_load_x{scale}"
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name} OWNER {OWNER}")
    owner = {**env, "KOBLING_ENV": "production", "DATABASE_URL": database_url(OWNER, name)}
    sh("scripts/serve", "release", env=owner)
    demo = {**owner, "KOBLING_ENV": "demo", "DEBUG": "false"}
    sh(PYTHON, "manage.py", "load_geodata", env=demo)
    print(sh(PYTHON, "manage.py", "seed_demo", "--scale", str(scale), env=demo).splitlines()[0])
    # The planner's statistics, as autovacuum gathers them on a server after large writes (and
    # would not here, where it may be off or not yet have run).
    sh("psql", f"{POSTGRES}/{name}", "-qc", "ANALYZE")
    return volunteers_with_matches(name)


def volunteers_with_matches(database: str, count: int = 25) -> str:
    """Volunteers in a match: their pages have the most to show."""
    return sh(
        "psql", f"{POSTGRES}/{database}", "-Atc",
        "SELECT DISTINCT u.username FROM auth_user u "
        "JOIN volunteers_volunteer v ON v.user_id = u.id "
        "JOIN matching_matchvolunteer p ON p.volunteer_id = v.id "
        f"WHERE p.left_at IS NULL ORDER BY u.username LIMIT {count}",
    ).strip().replace("\n", ",")  # fmt: skip


def web_start(scale: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    web = {
        **env,
        "KOBLING_ENV": "production",
        "DATABASE_URL": database_url(APP, f"kobling_load_x{scale}"),
        "WEB_BIND": f"127.0.0.1:{PORT}",
    }
    process = subprocess.Popen(
        ["scripts/serve", "web"], env=web, cwd=BASE_DIR, stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return process


def _healthy() -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}/health/live/",
        headers={"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def web_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


class LoadAverage(threading.Thread):
    """The 1-minute load average every five seconds while Locust runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(5):
            self.samples.append(os.getloadavg()[0])


def locust_run(scale: int, users: int, seconds: int, tmp: Path, volunteers: str) -> LoadRun:
    prefix = tmp / f"x{scale}-u{users}"
    env = {
        **os.environ,
        "KOBLING_LOAD_PUBLIC_HOST": PUBLIC_HOST,
        "KOBLING_LOAD_VOLUNTEERS": volunteers,
    }
    sampler = LoadAverage()
    sampler.start()
    sh(
        LOCUST, "-f", "benchmarks/locustfile.py", "--host", f"http://127.0.0.1:{PORT}",
        "--headless", "--users", str(users), "--spawn-rate", "1", "--run-time", f"{seconds}s",
        "--csv", str(prefix), "--only-summary", "--exit-code-on-error", "0",
        env=env, timeout=seconds + 600,
    )  # fmt: skip
    sampler.stopped.set()
    for failure in csv.DictReader((prefix.parent / f"{prefix.name}_failures.csv").open()):
        print(f"  failed: {failure['Method']} {failure['Name']} x{failure['Occurrences']}: "
              f"{failure['Error'][:300]}", flush=True)  # fmt: skip
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    return LoadRun(
        scale,
        users,
        seconds,
        float(total["Requests/s"]),
        int(total["Failure Count"]),
        pages_from_stats(rows),
        sampler.samples,
    )


def pages_from_stats(rows: list[dict[str, str]]) -> list[PageFigures]:
    """One line per page and method from Locust's ``--csv`` statistics, by name."""
    pages = [
        PageFigures(
            _page_label(row["Type"], row["Name"]),
            int(row["Request Count"]),
            int(row["Failure Count"]),
            float(row["50%"]),
            float(row["95%"]),
        )
        for row in rows
        if row["Name"] != "Aggregated"
    ]
    return sorted(pages, key=lambda page: page.name)


# The service's line per request (core/observability.py): "GET coordinator/<int:pk>/ 200 87 ms".
REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<route>\S+) (?P<status>\d{3}) (?P<ms>\d+) ms")


def service_times_from_log(log: Path) -> list[PageFigures]:
    """Per route and method, the service's own time for each request it logged (JSON lines of
    the ``kobling.request`` logger); failures are answers of 500 and above."""
    times: dict[str, list[float]] = {}
    failures: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        found = isinstance(record, dict) and record.get("logger") == "kobling.request"
        request = REQUEST_LINE.fullmatch(str(record.get("message", ""))) if found else None
        if request is None:
            continue
        # Router patterns are regular expressions ("^api/v1/matches/$"): shown as paths.
        route = request["route"].lstrip("^/").removesuffix("$")
        label = _page_label(request["method"], "/" + route)
        times.setdefault(label, []).append(float(request["ms"]))
        failures[label] = failures.get(label, 0) + (int(request["status"]) >= 500)
    return [
        PageFigures(label, len(values), failures[label], *_p50_p95(values))
        for label, values in sorted(times.items())
    ]


def _p50_p95(values: list[float]) -> tuple[float, float]:
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


def _page_label(method: str, name: str) -> str:
    """A form's page and what sending it costs are two lines: "/accounts/login/" and
    "/accounts/login/ (sent)"."""
    return name if method == "GET" else f"{name} (sent)"


def machine_now() -> dict[str, str]:
    models = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    cpu = models[0] if models else platform.processor()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "host": platform.node(),
        "cpu": f"{os.cpu_count()} x {cpu}",
        "commit": commit or "unknown",
    }


def markdown(runs: list[LoadRun], label: str, machine: dict[str, str]) -> str:
    lines = [
        f"### {label}",
        "",
        f"{machine['date']}, commit `{machine['commit']}`, {machine['host']} ({machine['cpu']}). "
        f"gunicorn from `scripts/serve web` ({machine.get('web', DEFAULT_WEB)}), "
        "PostgreSQL 15 and Redis on the same machine, and Locust too, so all share the same "
        f"cores. {runs[0].seconds} s per run; one more person every second until all are in, "
        "each logging in once (staff with two factors), then 1-5 s between pages.",
        "",
        "| size, users | req/s | failures | load average 1 min, mean / max |",
        "|---|---:|---:|---|",
    ]
    for run in runs:
        samples = run.load_average or [0.0]
        lines.append(
            f"| {run.scale}x, {run.users} | {run.requests_per_second:.1f} | {run.failures} | "
            f"{sum(samples) / len(samples):.1f} / {max(samples):.1f} |"
        )
    header = " | ".join(f"{run.scale}x, {run.users} users" for run in runs)
    lines += ["", "p50 / p95 in ms per page:", "", f"| page | {header} |"]
    lines += _figure_rows([run.pages for run in runs])
    if any(run.service for run in runs):
        lines += [
            "",
            "Time inside the service, p50 / p95 in ms per route (its own log line per request; "
            "the rest of what Locust waited was for a process, a thread or the network):",
            "",
            f"| route | {header} |",
        ]
        lines += _figure_rows([run.service for run in runs])
    return "\n".join(lines) + "\n"


def _figure_rows(figures_per_run: list[list[PageFigures]]) -> list[str]:
    """A table's alignment line and a row per name, a column per run ("-" where absent)."""
    by_run = [{figures.name: figures for figures in run} for run in figures_per_run]
    rows = ["|---|" + "---:|" * len(by_run)]
    for name in sorted({name for figures in by_run for name in figures}):
        cells = [
            f"{figures[name].p50_ms:.0f} / {figures[name].p95_ms:.0f}" if name in figures else "-"
            for figures in by_run
        ]
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return rows


def docs_section_replace(path: Path, section: str) -> None:
    """Between the markers, or at the end of the file the first time."""
    text = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated, e.g. 1,10")
    parser.add_argument("--users", default="10,50", help="comma-separated, e.g. 10,50")
    parser.add_argument("--seconds", type=int, default=180, help="per Locust run")
    parser.add_argument("--label", default="Latest run", help="heading of the table")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--write-docs", action="store_true", help="into docs/benchmarks.md")
    parser.add_argument("--workers", type=int, help="gunicorn processes (WEB_WORKERS)")
    parser.add_argument("--threads", type=int, help="threads per process (WEB_THREADS)")
    parser.add_argument(
        "--from-json", type=Path, help="measure nothing: the tables of a run saved with --json"
    )
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        runs = [
            LoadRun(
                **{
                    **run,
                    "pages": [PageFigures(**page) for page in run["pages"]],
                    "service": [PageFigures(**page) for page in run.get("service", [])],
                }
            )
            for run in saved["runs"]
        ]
        print(markdown(runs, args.label, saved["machine"]))
        return
    if not Path(LOCUST).exists():
        sys.exit("Locust is not installed: .venv/bin/pip install -e '.[load]'")
    roles_ensure()
    machine = machine_now()
    if args.workers or args.threads:
        workers, threads = args.workers or DEFAULT_WORKERS, args.threads or DEFAULT_THREADS
        machine["web"] = f"WEB_WORKERS={workers} processes x WEB_THREADS={threads} threads"
    runs = []
    with tempfile.TemporaryDirectory(prefix="kobling-load-") as tmp_name:
        tmp = Path(tmp_name)
        env = base_env(tmp)
        env |= {"WEB_WORKERS": str(args.workers)} if args.workers else {}
        env |= {"WEB_THREADS": str(args.threads)} if args.threads else {}
        for scale in [int(s) for s in args.scales.split(",")]:
            volunteers = database_prepare(scale, env)
            for users in [int(u) for u in args.users.split(",")]:
                sh("redis-cli", "-u", f"{REDIS}/12", "flushdb")
                web = web_start(scale, env, tmp / "web.log")
                try:
                    runs.append(locust_run(scale, users, args.seconds, tmp, volunteers))
                finally:
                    web_stop(web)
                runs[-1].service = service_times_from_log(tmp / "web.log")
                print(markdown(runs[-1:], f"{scale}x, {users} users", machine), flush=True)
        shutil.rmtree(tmp / "static", ignore_errors=True)
    section = markdown(runs, args.label, machine)
    print(section)
    if args.json:
        saved = {"machine": machine, "runs": [asdict(run) for run in runs]}
        args.json.write_text(json.dumps(saved, indent=2))
    if args.write_docs:
        docs_section_replace(BASE_DIR / "docs" / "benchmarks.md", section)


if __name__ == "__main__":
    main()
