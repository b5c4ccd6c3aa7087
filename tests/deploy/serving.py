"""Running ``scripts/serve`` from a test: the script, the public host name the reverse proxy
forwards, the environment a subprocess starts from (tests/environment.py), a free port, and
the service's long-running processes."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from tests.environment import without_configuration

BASE_DIR = Path(settings.BASE_DIR)
SERVE = str(BASE_DIR / "scripts" / "serve")
HOST = "kobling.example.no"
INHERITED = without_configuration()


def serve(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    """``scripts/serve ARGS`` to its end, with exactly the settings in ``env``."""
    return subprocess.run(
        [SERVE, *args],
        env={**INHERITED, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, every: float = 0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s: {what}"
        time.sleep(every)


class Processes:
    """The service's processes, each in a process group of its own (a Celery worker and its
    pool die together), with its output in a log file."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env = {**INHERITED, **env}
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with self.log(name).open("a") as log:
            process = subprocess.Popen(
                [SERVE, *args],
                env=self.env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = process
        return process

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def wait_for_line(self, name: str, text: str, timeout: float = 90) -> None:
        process = self.running[name]
        deadline = time.monotonic() + timeout
        while text not in self.log(name).read_text():
            assert process.poll() is None, f"{name} stopped:\n{self.log(name).read_text()}"
            assert time.monotonic() < deadline, f"{name}: no {text!r}:\n{self.tail(name)}"
            time.sleep(0.2)

    def kill(self, name: str) -> None:
        """SIGKILL, as the kernel's out-of-memory killer or a lost machine would."""
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        """As systemd stops a unit (KillMode=mixed): SIGTERM to the main process, so a worker
        finishes the task in hand, then SIGKILL to whatever is left of its group."""
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.running.clear()

    def errors(self) -> list[str]:
        """Every error a process logged (JSON lines) and any traceback it wrote."""
        return [
            line
            for log in self.logs.glob("*.log")
            for line in log.read_text().splitlines()
            if '"level": "ERROR"' in line or "Traceback" in line
        ]

    def tail(self, name: str, lines: int = 40) -> str:
        return "\n".join(self.log(name).read_text().splitlines()[-lines:])
