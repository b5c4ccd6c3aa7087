"""The load test's report (benchmarks/load.py) gives a line for each page and for sending each
form: a form's page and what sending it costs (a password hash) are told apart, and neither
hides the other."""

import json
import logging

import pytest

from benchmarks.load import (
    LoadRun,
    PageFigures,
    markdown,
    pages_from_stats,
    service_times_from_log,
)
from core.observability import JsonFormatter, RequestIdFilter


def stats_row(method: str, name: str, p50: str, p95: str) -> dict[str, str]:
    return {
        "Type": method,
        "Name": name,
        "Request Count": "10",
        "Failure Count": "0",
        "50%": p50,
        "95%": p95,
    }


def test_a_forms_page_and_sending_it_are_two_lines():
    rows = [
        stats_row("GET", "/accounts/login/", "6", "30"),
        stats_row("POST", "/accounts/login/", "160", "270"),
        stats_row("GET", "/", "50", "170"),
        stats_row("", "Aggregated", "50", "200"),
    ]
    run = LoadRun(10, 50, 180, 16.0, 0, pages_from_stats(rows), [1.5])

    report = markdown([run], "Latest run", {"date": "d", "commit": "c", "host": "h", "cpu": "2"})

    assert "| `/accounts/login/` | 6 / 30 |" in report
    assert "| `/accounts/login/ (sent)` | 160 / 270 |" in report
    assert "| `/` | 50 / 170 |" in report
    assert "Aggregated" not in report


@pytest.fixture
def request_log(tmp_path):
    """The service's request lines, as JSON, written to a file as in production."""
    path = tmp_path / "web.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("kobling.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


@pytest.mark.django_db
def test_the_services_own_time_per_route_is_read_from_its_log_lines(client, request_log):
    for _ in range(3):
        assert client.get("/accounts/login/").status_code == 200
    client.post("/accounts/login/", {"auth-username": "nobody", "auth-password": "wrong"})
    client.get("/api/v1/referrals/")
    with request_log.open("a", encoding="utf-8") as log:
        log.write("[2026-12-01 07:00:00 +0000] [1] [INFO] a line that is not JSON\n")
        log.write(json.dumps({"logger": "gunicorn.error", "message": "Booting worker"}) + "\n")

    service = {figures.name: figures for figures in service_times_from_log(request_log)}

    assert set(service) == {"/accounts/login/", "/accounts/login/ (sent)", "/api/v1/referrals/"}
    assert service["/accounts/login/"].requests == 3
    assert service["/accounts/login/ (sent)"].requests == 1
    assert service["/accounts/login/"].failures == 0
    assert 0 < service["/accounts/login/"].p50_ms <= service["/accounts/login/"].p95_ms


def test_the_report_gives_the_services_own_time_beside_what_locust_waited():
    pages = pages_from_stats([stats_row("GET", "/coordinator/", "150", "390")])
    service = [PageFigures("/coordinator/", 40, 0, 145.0, 327.0)]
    run = LoadRun(10, 50, 180, 16.0, 0, pages, [1.5], service)

    report = markdown([run], "Latest run", {"date": "d", "commit": "c", "host": "h", "cpu": "2"})

    assert "| `/coordinator/` | 150 / 390 |" in report
    assert "| `/coordinator/` | 145 / 327 |" in report
    assert report.index("150 / 390") < report.index("Time inside the service")
