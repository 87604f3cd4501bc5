"""The embedded mode's file-system broker keeps everything under ``VAR_DIR``, remote control included.

kombu's filesystem transport writes its exchange tables (the ``celery.pidbox`` exchange that
``inspect ping`` and every remote-control command go through) to ``control_folder``, by default
``control/`` in the current directory — under ``make run``, the repository root. A real worker
runs in embedded mode (no CELERY_BROKER_URL: the file broker) from an empty working directory,
answers a ping, and the working directory stays empty.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 60


def _embedded_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "REDIS_CACHE_URL")}
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
            "VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(ROOT),  # the project from anywhere: the working directory is the test's
        }
    )
    return env


@pytest.mark.worker
@pytest.mark.slow
def test_the_file_broker_keeps_its_control_folder_under_var(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = _embedded_env(tmp_path)
    hostname = f"control-test-{os.getpid()}@localhost"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", f"--hostname={hostname}"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        answered = None
        while time.monotonic() < deadline:
            assert worker.poll() is None, f"the worker exited:\n{log.read_text()[-4000:]}"
            ping = subprocess.run(
                [sys.executable, "-m", "celery", "-A", "config", "inspect", "ping", "-t", "3", "-d", hostname],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            if ping.returncode == 0 and "pong" in ping.stdout:
                answered = ping.stdout
                break
            time.sleep(1)
        assert answered, (
            f"no pong within {DEADLINE_SECONDS} s:\n{ping.stdout}\n{ping.stderr}\n{log.read_text()[-4000:]}"
        )
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)

    assert sorted(p.name for p in cwd.iterdir()) == []  # no control/, nothing else
    control = tmp_path / "var" / "broker" / "control"
    assert (control / "celery.pidbox.exchange").is_file(), sorted(p.name for p in control.iterdir())
