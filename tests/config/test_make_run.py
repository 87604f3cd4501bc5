"""``make run`` from a fresh clone, embedded mode: it comes up, the schedule really runs,
and Ctrl-C stops every process it started.

What is reused and why: the test passes ``VENV=<this interpreter's virtualenv>``
to make, so the clone runs on the already-installed requirements instead of
downloading and installing all of them again (minutes, and the network) on every
test run. The Makefile's install step keys its stamp on the requirements' hash,
so with an up-to-date virtualenv it installs nothing. Everything else is what a
new machine does: a ``git clone`` of the committed HEAD (not the working tree),
no ``DATABASE_URL`` or ``CELERY_BROKER_URL`` (so SQLite and the file-system
broker under the clone's ``var/``), migrate, seed_demo, then web + worker + beat.
The sweep interval is shortened to 5 seconds so the first scheduled escalation
sweep — beat → broker → worker → database — shows up in ``/healthz`` quickly.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.slow


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_in(folder: Path) -> dict[int, str]:
    """Live processes whose working directory is inside ``folder`` (everything make run starts)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone, or a zombie
            continue
        if cwd == str(folder) or cwd.startswith(f"{folder}{os.sep}"):
            found[int(entry.name)] = command
    return found


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return None, None


def admin_login(base, username, password):
    """Log in through the real login form; True when the admin index opens."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/?next=/admin/", timeout=20).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
    ).encode()
    response = opener.open(f"{base}/admin/login/?next=/admin/", data=form, timeout=20)
    body = response.read().decode()
    return response.url.endswith("/admin/") and "Site administration" in body


def test_make_run_from_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # A fresh shell: none of the test suite's DATABASE_URL, CELERY_BROKER_URL, VAR_DIR, SECRET_KEY, …
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PORT": str(port),
        "ESCALATION_SWEEP_SECONDS": "5",
        "OUTBOX_DRAIN_SECONDS": "5",
    }
    log = tmp_path / "make-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "run", f"VENV={sys.prefix}"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the terminal's Ctrl-C goes to all of it
        )

    def output():
        return log.read_text(encoding="utf-8", errors="replace")

    try:
        deadline = time.monotonic() + 180
        status = health = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"make run exited with {proc.returncode}:\n{output()[-4000:]}"
            status, health = get_json(f"{base}/healthz")
            if status == 200 and health.get("last_sweep"):
                break
            time.sleep(1)
        assert status == 200 and health and health.get("last_sweep"), f"{status} {health}\n{output()[-4000:]}"
        assert health["database"] == {"ok": True, "vendor": "sqlite"}
        assert health["broker"] == {"ok": True, "transport": "filesystem"}
        assert (clone / "var" / "commonground.sqlite3").exists() and (clone / "var" / "broker").is_dir()

        # What it printed: the address, the demo logins, and the scheduled task that ran.
        while "scheduled escalation sweep ran" not in output() and time.monotonic() < deadline:
            time.sleep(1)
        text = output()
        assert f"CommonGround is running at {base}/" in text
        assert "Demo logins (password: commonground): officer, officer2, supervisor, admin" in text
        assert "Celery beat → worker: scheduled escalation sweep ran at" in text
        assert "Demo data loaded" in text
        assert "database is locked" not in text
        assert admin_login(base, "admin", "commonground")

        running = processes_in(clone)
        commands = " | ".join(running.values())
        assert f"runserver 127.0.0.1:{port}" in commands
        assert "celery -A config worker" in commands and "celery -A config beat" in commands

        # Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=60)
        stop_deadline = time.monotonic() + 30
        while processes_in(clone) and time.monotonic() < stop_deadline:
            time.sleep(0.5)
        assert processes_in(clone) == {}, processes_in(clone)
        assert "Stopped." in output()
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web server still listens"

        # Everything it wrote is ignored by git (nothing untracked, nothing modified), and it wrote
        # only under var/ and Python's bytecode caches: nothing .gitignore merely happens to cover.
        def git_status(*flags):
            done = subprocess.run(
                ["git", "status", "--porcelain", *flags], cwd=clone, capture_output=True, text=True, check=True
            )
            return done.stdout.splitlines()

        assert git_status() == []
        written = [line[3:] for line in git_status("--ignored") if line.startswith("!! ")]
        assert [path for path in written if path != "var/" and not path.endswith("__pycache__/")] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in processes_in(clone):  # only what this test started, by pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
