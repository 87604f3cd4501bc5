"""CommonGround built as its Dockerfile builds it and started as docker-compose.yml starts it —
without Docker, which cannot run on our machines.

``DockerfileBuild`` reads the Dockerfile and executes it in a clean copy of the build
context (the files git knows, minus .dockerignore): every ``ENV``, ``WORKDIR``, ``COPY``
and ``RUN`` step, with ``/app`` mapped to the copy and ``pip`` / ``python`` to this
virtualenv's. Two steps cannot run outside an image and are skipped by name
(``useradd`` and ``chown`` of the non-root user); any other instruction or command it
does not know fails the build, so a new step is never skipped without anyone noticing.

``ComposeStack`` reads docker-compose.yml and starts ``migrate``, ``web`` (gunicorn with
its command line), ``worker`` and ``beat`` from that copy, with the environment compose
gives them — only the database and Redis addresses point at this machine, and
``/app`` at the copy. The database is a fresh PostgreSQL database of its own; Redis is
a server the test started on its own port (tests/redis_server.py), so a test may stop it.
"""

from __future__ import annotations

import fnmatch
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BIN = Path(sys.executable).parent
APP = "/app"
SKIPPED_COMMANDS = {
    # Creating the image's non-root user and handing it the writable folders needs root
    # and would change this machine's users; the processes below run as the test's user.
    "useradd",
    "chown",
}
# Compose's ${VAR}, ${VAR:-default}, ${VAR:?error}.
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}")


def interpolate(value, given: dict | None = None) -> str:
    """Compose's variable substitution with ``given`` as the shell environment."""
    given = given or {}

    def replace(match):
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if given.get(name):
            return given[name]
        if op == ":-":
            return arg or ""
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return ""

    return _VARIABLE.sub(replace, str(value)).replace("$$", "$")


def build_context(root: Path = ROOT) -> list[str]:
    """The files ``docker build .`` would send: what git tracks or would track, minus .dockerignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        parts = path.split("/")
        for pattern in patterns:
            bare = pattern.removeprefix("**/")
            if fnmatch.fnmatch(path, pattern) or any(fnmatch.fnmatch(part, bare) for part in parts):
                return True
            if any("/".join(parts[: n + 1]) == pattern for n in range(len(parts))):
                return True
        return False

    return sorted(path for path in listed.split("\0") if path and not ignored(path) and (root / path).is_file())


def _instructions(text: str) -> list[tuple[str, str]]:
    """Dockerfile lines → (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        instruction, _, arguments = pending.strip().partition(" ")
        out.append((instruction.upper(), arguments.strip()))
        pending = ""
    return out


class DockerfileBuild:
    def __init__(self, dest: Path, root: Path = ROOT):
        self.root = root
        self.dest = Path(dest)
        self.env: dict[str, str] = {}
        self.base_image = ""
        self.user = ""
        self.cmd: list[str] = []
        self.ran: list[str] = []
        self.skipped: list[str] = []
        self.log = self.dest.parent / "build.log"

    def path(self, value: str) -> str:
        """/app/... inside the image → the copy."""
        return re.sub(r"(?<![\w/])/app(?=/|\b)", str(self.dest), value)

    def run(self) -> DockerfileBuild:
        self.dest.mkdir(parents=True, exist_ok=True)
        for instruction, arguments in _instructions((self.root / "Dockerfile").read_text(encoding="utf-8")):
            handler = getattr(self, f"_{instruction.lower()}", None)
            if handler is None:
                raise AssertionError(f"the build does not know the Dockerfile instruction {instruction}")
            handler(arguments)
        return self

    def _from(self, arguments):
        self.base_image = arguments

    def _env(self, arguments):
        for pair in shlex.split(arguments):
            name, _, value = pair.partition("=")
            self.env[name] = self.path(value)

    def _workdir(self, arguments):
        assert arguments == APP, "the build maps /app to its copy; another WORKDIR needs handling here"

    def _copy(self, arguments):
        *sources, target = shlex.split(arguments)
        assert target in (".", "./", f"{APP}/"), f"COPY to {target}"
        for source in sources:
            files = build_context(self.root) if source == "." else [source]
            for name in files:
                (self.dest / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.root / name, self.dest / name)

    def _run(self, arguments):
        for command in re.split(r"\s&&\s", arguments):
            words = shlex.split(command)
            env = dict(self.env)
            while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
                name, _, value = words.pop(0).partition("=")
                env[name] = value
            program = words[0]
            if program in SKIPPED_COMMANDS:
                self.skipped.append(command.strip())
                continue
            if program in ("pip", "python"):
                argv = [sys.executable, *(["-m", "pip"] if program == "pip" else []), *words[1:]]
            elif program == "mkdir":
                argv = [program, *words[1:]]
            else:
                raise AssertionError(f"the build does not know how to run {program!r} from the Dockerfile")
            argv = [self.path(word) for word in argv]
            with self.log.open("a") as log:
                log.write(f"$ {' '.join(argv)}\n")
                log.flush()
                done = subprocess.run(
                    argv,
                    cwd=self.dest,
                    env=_process_env(env),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=900,
                )
            if done.returncode != 0:
                raise AssertionError(
                    f"Dockerfile step failed ({done.returncode}): {command.strip()}\n{_tail(self.log)}"
                )
            self.ran.append(command.strip())

    def _user(self, arguments):
        self.user = arguments

    def _expose(self, arguments):
        pass

    def _cmd(self, arguments):
        import json

        self.cmd = json.loads(arguments)


def _process_env(extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: this machine's basics, this virtualenv first on PATH, then ``extra``."""
    base = {key: os.environ[key] for key in ("HOME", "LANG", "TMPDIR", "PIP_FIND_LINKS") if key in os.environ}
    base["PATH"] = f"{PYTHON_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**base, **{key: str(value) for key, value in extra.items()}}


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _server_connection(url: str):
    """An autocommit connection to the server of ``url`` (its ``postgres`` database)."""
    import psycopg2

    parsed = urlparse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
    )
    connection.autocommit = True
    return connection


def _drop(cursor, name: str) -> None:
    from psycopg2 import sql

    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database(name: str, admin_url: str) -> str:
    """A fresh, empty database ``name`` on the server of ``admin_url``; returns its URL."""
    from psycopg2 import sql

    connection = _server_connection(admin_url)
    with connection.cursor() as cursor:
        _drop(cursor, name)
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()
    return f"postgres://{urlparse(admin_url).netloc}/{name}"


def drop_database(url: str) -> None:
    connection = _server_connection(url)
    with connection.cursor() as cursor:
        _drop(cursor, urlparse(url).path[1:])
    connection.close()


class ComposeStack:
    """migrate, web, worker and beat as docker-compose.yml runs them, from a built copy."""

    HOST = "cg.example.org"

    def __init__(
        self,
        build: DockerfileBuild,
        *,
        database_url: str,
        redis_url: str,
        port: int,
        logs: Path,
        extra_env: dict | None = None,
        **given,
    ):
        self.build = build
        self.compose = yaml.safe_load((build.dest / "docker-compose.yml").read_text(encoding="utf-8"))
        self.services = self.compose["services"]
        self.port = port
        self.logs = Path(logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.redis_url = redis_url
        self.given = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SITE_URL": f"https://{self.HOST}",
            "ALLOWED_HOSTS": f"{self.HOST},127.0.0.1",
            "CSRF_TRUSTED_ORIGINS": f"https://{self.HOST}",
            "WEB_WORKERS": "2",
            "WORKER_CONCURRENCY": "1",
            **given,
        }
        # Beyond compose's environment: only what a test needs to see within seconds (e.g. the
        # schedule's intervals), each named by the test that sets it.
        self.extra_env = dict(extra_env or {})
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # The TLS proxy in front of the app (README: deployment) says the request came over HTTPS.
    # The host is the address itself (allowed), so a client's cookies match the URL it calls.
    @property
    def headers(self) -> dict[str, str]:
        return {"X-Forwarded-Proto": "https"}

    def checked_environment(self, service: str, **extra) -> dict[str, str]:
        compose_env = {
            key: interpolate(value, self.given) for key, value in self.services[service]["environment"].items()
        }
        # Only the addresses of the two servers change: this machine's instead of the compose network's.
        assert urlparse(compose_env["DATABASE_URL"]).hostname == "postgres"
        assert urlparse(compose_env["CELERY_BROKER_URL"]).hostname == "redis"
        compose_env["DATABASE_URL"] = self.database_url
        compose_env["CELERY_BROKER_URL"] = self.redis_url
        return _process_env({**self.build.env, **compose_env, **self.extra_env, **extra})

    def argv(self, service: str) -> list[str]:
        command = self.services[service]["command"]
        words = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
        words = [self.build.path(interpolate(word, self.given)) for word in words]
        return [word.replace("--bind=0.0.0.0:8000", f"--bind=127.0.0.1:{self.port}") for word in words]

    def run_once(self, service: str, timeout: int = 600, **extra) -> None:
        log = self.logs / f"{service}.log"
        with log.open("a") as out:
            done = subprocess.run(
                self.argv(service),
                cwd=self.build.dest,
                env=self.checked_environment(service, **extra),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if done.returncode != 0:
            raise AssertionError(f"{service} failed ({done.returncode}):\n{_tail(log)}")

    def manage(self, *args: str, timeout: int = 600, **extra) -> str:
        """``docker compose run --rm web python manage.py …``."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.build.dest,
            env=self.checked_environment("web", **extra),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def start(self, *services: str) -> ComposeStack:
        for service in services:
            log = (self.logs / f"{service}.log").open("a")
            self.processes[service] = subprocess.Popen(
                self.argv(service),
                cwd=self.build.dest,
                env=self.checked_environment(service),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if "web" in services:
            self.wait_healthy()
        return self

    def get(self, path: str, **kwargs):
        return requests.get(self.base_url + path, headers=self.headers, timeout=30, **kwargs)

    def wait_healthy(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}")
            try:
                last = self.get("/healthz")
                if last.status_code == 200:
                    return last.json()
            except requests.RequestException:
                pass
            time.sleep(0.3)
        detail = f"{last.status_code} {last.text[:500]}" if last is not None else "no answer"
        raise AssertionError(f"/healthz not healthy in {timeout} s: {detail}\n{self.log_tail('web')}")

    def log_tail(self, service: str, lines: int = 60) -> str:
        return _tail(self.logs / f"{service}.log", lines)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()
