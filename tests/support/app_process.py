"""The real app as a user runs it: ``reflex run --env prod`` in a subprocess of its own.

Each run gets a temporary data directory, a fresh SQLite database migrated with Alembic, random
secrets, a free port and a log file. :func:`running_app` seeds the database before the start
(``seed``), waits until the app answers HTTP and, on exit, ends the whole process tree and checks
that nothing is left listening on the port.

In production mode Reflex serves the built front end, ``/ping`` and the ``/_event`` websocket on
one port, so the front-end and back-end ports given to ``reflex run`` are the same.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from llm_chat.config import PROJECT_ROOT
from tests.support.databases import migrate

#: Where ``make setup`` puts bun; Reflex finds it on PATH (it cannot download one here).
BUN_BIN = PROJECT_ROOT / ".tools" / "bun" / "node_modules" / ".bin"
#: A first production build takes about a minute; leave room for slow machines.
START_TIMEOUT_SECONDS = 300.0
STOP_TIMEOUT_SECONDS = 15.0
# Variables of the test process that must not leak into the app's configuration.
_DROPPED_PREFIXES = ("LLM_CHAT_", "REFLEX_", "PYTEST_")
_DROPPED_NAMES = frozenset({"OPENAI_API_KEY", "DEEPSEEK_API_KEY", "OPENAI_BASE_URL"})


class AppStartError(RuntimeError):
    """The app exited or did not answer in time; the message ends with its log."""


@dataclass(frozen=True)
class AppConfig:
    """What one app process is configured with (also what a seed function needs)."""

    port: int
    data_dir: Path
    database_url: str
    jwt_secret: str
    encryption_key: str
    log_path: Path

    @property
    def url(self) -> str:
        """The address users open. The built front end names the back end ``localhost``."""
        return f"http://localhost:{self.port}"

    def environment(self) -> dict[str, str]:
        """The environment of the app process: ours minus app settings, plus its own."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(_DROPPED_PREFIXES) and name not in _DROPPED_NAMES
        }
        venv_bin = Path(sys.executable).parent
        env.update(
            PATH=os.pathsep.join([str(BUN_BIN), str(venv_bin), env.get("PATH", "")]),
            LLM_CHAT_ENV_FILE="",  # no developer's .env either
            LLM_CHAT_DATA_DIR=str(self.data_dir),
            LLM_CHAT_DATABASE_URL=self.database_url,
            LLM_CHAT_JWT_SECRET=self.jwt_secret,
            LLM_CHAT_ENCRYPTION_KEY=self.encryption_key,
            LLM_CHAT_ALLOWED_ORIGINS=(f"http://localhost:{self.port},http://127.0.0.1:{self.port}"),
            # The disk state manager wipes its directory on start: keep ours apart from
            # the project's `.states`, which a developer's server may be using.
            REFLEX_STATES_WORKDIR=str(self.data_dir / "states"),
            REFLEX_CHECK_LATEST_VERSION="false",
            PYTHONUNBUFFERED="1",
            NO_COLOR="1",
        )
        return env


@dataclass
class RunningApp:
    """A started app process."""

    config: AppConfig
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://localhost:PORT``."""
        return self.config.url

    @property
    def port(self) -> int:
        """The one port the app serves on."""
        return self.config.port

    def log_text(self) -> str:
        """Everything the app printed so far."""
        try:
            return self.config.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the log, for failure messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        """End the process group and every descendant; wait until the port is closed."""
        killed = stop_process_tree(self.process)
        if killed:
            with self.config.log_path.open("a", encoding="utf-8") as log:
                log.write(f"[test harness] SIGTERM ignored, SIGKILLed: {killed}\n")
        if not wait_port_closed(self.port, timeout=STOP_TIMEOUT_SECONDS):
            raise RuntimeError(f"port {self.port} still accepts connections after the app stopped")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def wait_port_closed(port: int, timeout: float) -> bool:
    """Wait until nothing listens on ``port``; returns whether that happened in time."""
    deadline = time.monotonic() + timeout
    while port_open(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may contain spaces.
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux ``/proc``), children first."""
    tree = _children_by_parent()
    found: list[int] = []
    todo = list(tree.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(tree.get(child, []))
    return found


def _signal_all(pids: list[int], pgid: int | None, sig: signal.Signals) -> None:
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"


def _command_line(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()[:200]


def stop_process_tree(
    process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_SECONDS
) -> list[str]:
    """SIGTERM the process group and every descendant (even one that left the group).

    Whatever is still alive after ``timeout`` seconds gets SIGKILL.

    Returns:
        ``"pid command line"`` of each process that had to be killed.
    """
    if process.poll() is not None and not descendants(process.pid):
        return []
    # Remember the tree now: once the parent is gone its children are re-parented.
    tree = [process.pid, *descendants(process.pid)]
    pgid = process.pid  # started with start_new_session=True: it leads its own group
    _signal_all(tree, pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.poll()  # reaps the leader, so it does not linger as a zombie
        if not any(_alive(pid) for pid in tree):
            return []
        time.sleep(0.1)
    survivors = [pid for pid in tree if _alive(pid)]
    survivors += [pid for pid in descendants(process.pid) if pid not in survivors]
    killed = [f"{pid} {_command_line(pid)}" for pid in survivors]
    _signal_all(survivors, pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    return killed


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback URL)
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def wait_until_serving(app: RunningApp, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Wait until the back end (``/ping``) and the built front end (``/``) both answer 200.

    Raises:
        AppStartError: the process exited, or did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    base = f"http://127.0.0.1:{app.port}"
    while True:
        code = app.process.poll()
        if code is not None:
            raise AppStartError(f"the app exited with code {code}; log:\n{app.log_tail()}")
        if _http_status(base + "/ping") == 200 and _http_status(base + "/") == 200:
            return
        if time.monotonic() > deadline:
            raise AppStartError(
                f"the app did not answer on port {app.port} within {timeout:.0f} s; log:\n"
                + app.log_tail()
            )
        time.sleep(1.0)


def prepare(
    log_path: Path, data_dir: Path | None = None, database_url: str | None = None
) -> AppConfig:
    """A configuration with random secrets and a fresh, migrated database: a SQLite file,
    or the empty database ``database_url`` names."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="llm-chat-app-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{data_dir / 'llm_chat.db'}"
    migrate(database_url)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return AppConfig(
        port=free_port(),
        data_dir=data_dir,
        database_url=database_url,
        jwt_secret=secrets.token_urlsafe(48),
        encryption_key=secrets.token_urlsafe(48),
        log_path=log_path,
    )


def reflex_command(port: int) -> list[str]:
    """``reflex run`` in production mode on one port, bound to the loopback interface."""
    reflex = Path(sys.executable).parent / "reflex"
    launcher = [str(reflex)] if reflex.exists() else [sys.executable, "-m", "reflex"]
    return [
        *launcher,
        "run",
        "--env",
        "prod",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--backend-host",
        "127.0.0.1",
        "--loglevel",
        "info",
    ]


def start_app(config: AppConfig) -> RunningApp:
    """Start ``reflex run --env prod`` in its own process group, its output in the log file."""
    with config.log_path.open("wb") as log:
        process = subprocess.Popen(
            reflex_command(config.port),
            cwd=PROJECT_ROOT,
            env=config.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningApp(config=config, process=process)


@contextlib.contextmanager
def running_app(
    log_path: Path,
    seed: Callable[[AppConfig], None] | None = None,
    timeout: float = START_TIMEOUT_SECONDS,
    database_url: str | None = None,
) -> Iterator[RunningApp]:
    """Prepare, seed and start the app; stop it and delete its data directory afterwards.

    ``database_url``: an empty database to use instead of a SQLite file."""
    config = prepare(log_path, database_url=database_url)
    try:
        if seed is not None:
            seed(config)
        app = start_app(config)
        try:
            wait_until_serving(app, timeout)
            yield app
        finally:
            app.stop()
    finally:
        shutil.rmtree(config.data_dir, ignore_errors=True)
