"""For scripts/backup and scripts/restore: a DATABASE_URL as shell assignments for libpq's tools.

    python3 scripts/lib/database_url.py URL  ->  export PGPASSWORD=…  dburl=…  dbname=…  serverurl=…

libpq reads the URL itself (host, port, user, database, query options such as sslmode); only the
password goes through the environment, so that it never shows in the process list. ``dbname``
is the database's name, ``serverurl`` the same server's maintenance database ``postgres`` (for
CREATE DATABASE). Standard library only: it runs without Kobling's virtualenv.
"""

import shlex
import sys
from urllib.parse import unquote, urlsplit, urlunsplit


def assignments(database_url: str) -> list[str]:
    url = urlsplit(database_url)
    name = unquote(url.path.lstrip("/"))
    if url.scheme not in ("postgres", "postgresql") or not name:
        raise ValueError("must be postgres://user:password@host:port/database")
    login, at, server = url.netloc.rpartition("@")
    lines = []
    if ":" in login:
        login, password = login.split(":", 1)
        lines.append("export PGPASSWORD=" + shlex.quote(unquote(password)))
    url = url._replace(netloc=login + at + server)
    return [
        *lines,
        "dburl=" + shlex.quote(urlunsplit(url)),
        "dbname=" + shlex.quote(name),
        "serverurl=" + shlex.quote(urlunsplit(url._replace(path="/postgres"))),
    ]


if __name__ == "__main__":
    try:
        print("\n".join(assignments(sys.argv[1])))
    except ValueError as error:
        sys.exit(f"{sys.argv[2] if len(sys.argv) > 2 else 'DATABASE_URL'} {error}.")
