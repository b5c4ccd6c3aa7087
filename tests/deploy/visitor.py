"""A person's browser, or an integration calling the API, talking to gunicorn over HTTP as the
TLS-ending reverse proxy in front of it forwards requests (docs/deploy.md, "Caddy"): the public
host name, X-Forwarded-Proto and X-Forwarded-For set, bokmål asked for."""

import dataclasses
import http.cookiejar
import json
import re
import urllib.error
import urllib.request
from urllib.parse import urlencode, urlsplit

from django_otp.oath import TOTP

from tests.deploy.serving import HOST


class _BehindTlsProxy(http.cookiejar.DefaultCookiePolicy):
    """Kobling marks its cookies Secure in production; the proxy in front ends TLS, so between
    it and gunicorn they travel over plain HTTP."""

    def return_ok_secure(self, cookie, request) -> bool:
        return True


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclasses.dataclass
class Page:
    path: str
    status: int
    text: str
    headers: dict[str, str]

    def json(self):
        return json.loads(self.text)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Visitor:
    """One person's browser (cookies, the CSRF token of the page they are on), or with
    ``token`` an integration calling the API."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token
        jar = http.cookiejar.CookieJar(policy=_BehindTlsProxy())
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirects()
        )

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> Page:
        headers = {
            "Host": HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "127.0.0.1",
            "Accept-Language": "nb",
            **(headers or {}),
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base + path, data=body, method=method, headers=headers
        )
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            text = response.read().decode("utf-8", "replace")
            return Page(path, response.status, text, dict(response.headers))

    def get(self, path: str) -> Page:
        """GET, following redirects within Kobling."""
        page = self.request("GET", path)
        for _hop in range(5):
            if page.status not in (301, 302, 303):
                return page
            location = urlsplit(page.headers["Location"])
            assert location.netloc in ("", HOST), page.headers["Location"]
            query = f"?{location.query}" if location.query else ""
            page = self.request("GET", location.path + query)
        return page

    def submit(self, page: Page, action: str, data: dict | None = None) -> Page:
        """Send a form of ``page`` to ``action`` as the browser does, and follow the redirect
        to the page that answers."""
        token = CSRF.search(page.text)
        assert token, f"no form on {page.path}"
        body = urlencode({"csrfmiddlewaretoken": token.group(1), **(data or {})}).encode()
        answer = self.request(
            "POST",
            action,
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://{HOST}{page.path}",
            },
        )
        # Every form these tests send answers a success with a redirect (post/redirect/get).
        assert answer.status == 302, f"{action}: {answer.status}\n{answer.text}"
        return self.get(answer.headers["Location"])

    def api(self, method: str, path: str, body: dict | None = None) -> Page:
        data = json.dumps(body).encode() if body is not None else None
        return self.request(method, path, data, {"Content-Type": "application/json"})

    def log_in(self, username: str, password: str, totp_key: str | None = None) -> Page:
        login = self.get("/accounts/login/")
        page = self.submit(login, "/accounts/login/", {"username": username, "password": password})
        if totp_key is not None:
            assert page.path.startswith("/accounts/two-factor/"), page.path
            page = self.submit(page, page.path, {"code": authenticator_code(totp_key)})
        assert not page.path.startswith("/accounts/"), f"{username} not logged in: {page.path}"
        return page


def authenticator_code(key_hex: str) -> str:
    """What the user's authenticator app shows now (django-otp's TOTP, as the server checks)."""
    return f"{TOTP(bytes.fromhex(key_hex), step=30, t0=0, digits=6).token():06d}"
