"""The load test's report (benchmarks/load.py) gives a line for each page and for sending each
form: a form's page and what sending it costs (a password hash) are told apart, and neither
hides the other."""

from benchmarks.load import LoadRun, markdown, pages_from_stats


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
