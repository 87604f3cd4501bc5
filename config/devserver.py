"""`make run`: the web server, the Celery worker and Celery beat, as one command.

Starts the three processes in their own process group, waits until /healthz
answers and the first scheduled escalation sweep has run through beat → broker →
worker, prints the address and the demo logins, and stops all of them on
Ctrl-C (or SIGTERM). Uses whatever DATABASE_URL / CELERY_BROKER_URL say;
by default SQLite and the file-system broker under var/.
"""

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

PORT = int(os.environ.get("PORT", "8000"))
HOST = os.environ.get("HOST", "127.0.0.1")
PY = sys.executable
PR_SET_PDEATHSIG = 1


def _child_setup():
    # A new session per child so Ctrl-C reaches us first and we stop them in order;
    # and if we are killed outright (SIGKILL), Linux sends the child SIGTERM, so no
    # web server or worker is left running on its own.
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):  # not Linux: Ctrl-C still stops everything
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start(name, args):
    # preexec_fn is safe here: the runner starts no threads.
    proc = subprocess.Popen([PY, *args], preexec_fn=_child_setup)
    print(f"  started {name} (pid {proc.pid})", flush=True)
    return name, proc


def _health():
    try:
        with urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=3) as response:
            return json.loads(response.read())
    except Exception:
        return None


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from cases.selectors import last_sweep_run

    env_mode = "full" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "embedded"
    print(
        f"CommonGround ({env_mode} mode): database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"broker {settings.CELERY_BROKER_URL.split('://', 1)[0]}",
        flush=True,
    )
    before = last_sweep_run()
    before_at = before.finished_at if before else None
    procs = [
        _start("web", ["manage.py", "runserver", f"{HOST}:{PORT}", "--noreload", "--skip-checks"]),
        _start(
            "worker",
            ["-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "--hostname=worker@%h"],
        ),
        _start(
            "beat",
            [
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ],
        ),
    ]

    stopping = False

    def stop(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\nStopping web, worker and beat…", flush=True)
        for _name, proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for _name, proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        print("Stopped.", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    for _ in range(120):
        if _health():
            break
        time.sleep(0.5)
    print(
        f"\n  CommonGround is running at http://{HOST}:{PORT}/\n"
        f"  Demo logins (password: {settings.DEMO_PASSWORD}): officer, officer2, supervisor, admin\n"
        f"  Resident form: http://{HOST}:{PORT}/report/   Admin: http://{HOST}:{PORT}/admin/\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    announced = False
    while True:
        for name, proc in procs:
            if proc.poll() is not None and not stopping:
                print(f"{name} exited with code {proc.returncode}; stopping the rest.", flush=True)
                stop()
        if not announced:
            run = last_sweep_run()
            if run and run.finished_at and run.finished_at != before_at:
                print(
                    f"  Celery beat → worker: scheduled escalation sweep ran at "
                    f"{timezone.localtime(run.finished_at):%H:%M:%S} "
                    f"({run.escalations} escalations, {run.hotspots} hot spots).",
                    flush=True,
                )
                announced = True
        time.sleep(2)


if __name__ == "__main__":
    main()
