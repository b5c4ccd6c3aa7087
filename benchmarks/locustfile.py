"""Load test: the three roles' journeys through the portal and the API, against a running
Kobling with the demo data (`seed_demo`), for example gunicorn on PostgreSQL:

    .venv/bin/pip install -e '.[load]'
    .venv/bin/locust -f benchmarks/locustfile.py --host http://127.0.0.1:8000 \\
        --headless --users 50 --spawn-rate 5 --run-time 3m --csv var/load

Each simulated person logs in once, as the demo's people do: staff with the password and the
demo's authenticator code (its secret is public, demo only), volunteers with the password.
Staff accounts are shared out in turn (16 crisis centres: koordinator-<town> and
krisesenter-<town>); an authenticator code is accepted once, so a second person on the same
account in the same 30 seconds waits for the next code. Requests are named by page, not by
row ("/referrals/[id]/"), so the report gives one line per page.

Against production settings without the TLS proxy in front (benchmarks/load.py does this), set
KOBLING_LOAD_PUBLIC_HOST to the host name in ALLOWED_HOSTS: each request then carries what the
proxy adds (Host, X-Forwarded-Proto: https, X-Forwarded-For), the Referer a browser on https
sends, and the Secure cookies that travel over plain HTTP between proxy and gunicorn.

Environment: KOBLING_LOAD_PASSWORD (default the demo's), KOBLING_LOAD_TOTP_SECRET (default the
demo's), KOBLING_LOAD_TOWNS (comma-separated; default the demo's 16), KOBLING_LOAD_VOLUNTEERS
(comma-separated usernames; default the README's demo volunteer).
"""

import http.cookiejar
import itertools
import os
import random
import re
import time
from urllib.parse import urlsplit

import pyotp
from locust import HttpUser, between, task

PASSWORD = os.environ.get("KOBLING_LOAD_PASSWORD", "kobling-demo")
TOTP_SECRET = os.environ.get("KOBLING_LOAD_TOTP_SECRET", "KOBLINGDEMOTOTPSECRETKOBLINGDEMO")
TOWNS = os.environ.get(
    "KOBLING_LOAD_TOWNS",
    "oslo,bergen,trondheim,stavanger,kristiansand,tromso,bodo,drammen,fredrikstad,hamar,"
    "lillehammer,skien,alesund,forde,steinkjer,alta",
).split(",")
VOLUNTEERS = os.environ.get("KOBLING_LOAD_VOLUNTEERS", "frivillig-marianne-009").split(",")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PUBLIC_HOST = os.environ.get("KOBLING_LOAD_PUBLIC_HOST", "")
TOTP_STEP_SECONDS = 30
LOGIN_ATTEMPTS = 3

_next_town = itertools.cycle(TOWNS)
_next_address = (f"10.0.{n // 256}.{n % 256}" for n in itertools.count(1))
# account -> the 30-second step whose code someone on it sent last
_steps_used: dict[str, int] = {}
_next_volunteer = itertools.cycle(VOLUNTEERS)


def _page_name(path: str) -> str:
    """One report line per page, not per row: /referrals/12/ is "/referrals/[id]/"."""
    return "[id]".join(re.split(r"\d+", path))


def _send_secure_cookies_over_http() -> None:
    """Kobling marks its cookies Secure in production; the proxy ends TLS, so between it and
    gunicorn they travel over plain HTTP. requests copies every session's cookies into a new jar
    with the default policy for each request, so the policy is changed for this process."""
    http.cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


if PUBLIC_HOST:
    _send_secure_cookies_over_http()


def _wait_for_an_unused_code(username: str) -> None:
    """An authenticator code is accepted once: a second person on the same account in the same
    30 seconds waits for the next code (a refused code counts towards the account's lockout)."""
    while _steps_used.get(username) == int(time.time() // TOTP_STEP_SECONDS):
        time.sleep(TOTP_STEP_SECONDS - time.time() % TOTP_STEP_SECONDS + 0.5)
    _steps_used[username] = int(time.time() // TOTP_STEP_SECONDS)


class _Person(HttpUser):
    abstract = True
    wait_time = between(1, 5)
    ids: dict[str, list[str]]

    def on_start(self) -> None:
        self.ids = {}
        if PUBLIC_HOST:
            # Each person from an address of their own, as people log in from their own homes
            # and offices (the login limits count per address).
            self.client.headers.update(
                {
                    "Host": PUBLIC_HOST,
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-For": next(_next_address),
                }
            )
        self.client.headers["Accept-Language"] = "nb"
        self.log_in()

    def log_in(self) -> None:
        raise NotImplementedError

    def _post_form(self, path: str, data: dict, name: str) -> str:
        """Send a form as a browser does; returns the path of the page it leads to. The page
        after the redirect is its own request, under its own name, so the time of sending
        the form (a password hash, say) and of showing the next page are told apart."""
        page = self.client.get(path, name=name)
        token = CSRF.search(page.text)
        data = {**data, "csrfmiddlewaretoken": token.group(1) if token else ""}
        referer = f"https://{PUBLIC_HOST}{path}" if PUBLIC_HOST else page.url
        sent = self.client.post(
            path, data=data, headers={"Referer": referer}, name=name, allow_redirects=False
        )
        if not sent.is_redirect:
            return path
        target = urlsplit(sent.headers["Location"]).path
        self.client.get(sent.headers["Location"], name=_page_name(target))
        return target

    def _password(self, username: str):
        return self._post_form(
            "/accounts/login/",
            {"username": username, "password": PASSWORD},
            "/accounts/login/",
        )

    def _staff_login(self, username: str) -> None:
        self._password(username)
        for _attempt in range(LOGIN_ATTEMPTS):
            _wait_for_an_unused_code(username)
            code = pyotp.TOTP(TOTP_SECRET).now()
            landed_on = self._post_form(
                "/accounts/two-factor/", {"code": code}, "/accounts/two-factor/"
            )
            if landed_on != "/accounts/two-factor/":
                return
        raise RuntimeError(f"{username}: the second factor was refused {LOGIN_ATTEMPTS} times")

    def _visit_one_of(self, list_path: str, pattern: str, name: str) -> None:
        """Open a row found on a list page (remembered), as a person clicks one."""
        if list_path not in self.ids:
            page = self.client.get(list_path, name=list_path)
            self.ids[list_path] = sorted(set(re.findall(pattern, page.text)))
        if self.ids[list_path]:
            row = random.choice(self.ids[list_path])
            self.client.get(name.replace("[id]", row), name=name)


class CrisisCentreStaff(_Person):
    """Refers participants and follows their referrals."""

    weight = 2

    def log_in(self) -> None:
        self._staff_login(f"krisesenter-{next(_next_town)}")

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(3)
    def referrals(self) -> None:
        self.client.get("/referrals/", name="/referrals/")

    @task(3)
    def one_referral(self) -> None:
        self._visit_one_of("/referrals/", r'href="/referrals/(\d+)/"', "/referrals/[id]/")

    @task(1)
    def new_referral_form(self) -> None:
        self.client.get("/referrals/new/", name="/referrals/new/")

    @task(1)
    def api_referrals(self) -> None:
        self.client.get("/api/v1/referrals/", name="/api/v1/referrals/")


class Coordinator(_Person):
    """Follows the queue, the volunteers, the matches and the check-ins of their sites."""

    weight = 2

    def log_in(self) -> None:
        self._staff_login(f"koordinator-{next(_next_town)}")

    @task(4)
    def dashboard(self) -> None:
        self.client.get("/coordinator/", name="/coordinator/")

    @task(2)
    def referrals(self) -> None:
        self.client.get("/referrals/", name="/referrals/")

    @task(2)
    def one_referral(self) -> None:
        self._visit_one_of("/referrals/", r'href="/referrals/(\d+)/"', "/referrals/[id]/")

    @task(2)
    def volunteers(self) -> None:
        self.client.get("/coordinator/volunteers/", name="/coordinator/volunteers/")

    @task(1)
    def one_volunteer(self) -> None:
        self._visit_one_of(
            "/coordinator/volunteers/",
            r'href="/coordinator/volunteers/(\d+)/"',
            "/coordinator/volunteers/[id]/",
        )

    @task(2)
    def matches(self) -> None:
        self.client.get("/coordinator/matches/", name="/coordinator/matches/")

    @task(1)
    def one_match(self) -> None:
        self._visit_one_of(
            "/coordinator/matches/",
            r'href="/coordinator/matches/(\d+)/"',
            "/coordinator/matches/[id]/",
        )

    @task(1)
    def check_ins(self) -> None:
        self.client.get("/coordinator/check-ins/", name="/coordinator/check-ins/")

    @task(1)
    def a_run(self) -> None:
        self._visit_one_of(
            "/coordinator/", r'href="/coordinator/runs/(\d+)/"', "/coordinator/runs/[id]/"
        )

    @task(1)
    def recruitment(self) -> None:
        self.client.get("/coordinator/recruitment/", name="/coordinator/recruitment/")

    @task(1)
    def api_matches(self) -> None:
        self.client.get("/api/v1/matches/", name="/api/v1/matches/")


class Volunteer(_Person):
    """Keeps their availability current and looks at their agreements and check-ins."""

    weight = 1

    def log_in(self) -> None:
        self._password(next(_next_volunteer))

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="/")

    @task(2)
    def profile(self) -> None:
        self.client.get("/me/", name="/me/")

    @task(1)
    def my_data(self) -> None:
        self.client.get("/my-data/", name="/my-data/")
