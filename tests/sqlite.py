"""Run a scenario on SQLite, the embedded database of ``make run``, while the suite runs on PostgreSQL.

The scenario is Python source run in a subprocess whose DATABASE_URL is a fresh SQLite file
(it calls ``django.setup()`` and migrates itself); its last line of output is JSON, returned.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checked_run_on_sqlite(scenario: str, tmp_path: Path, **env) -> dict:
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
            "VAR_DIR": str(tmp_path / "var"),
            "CELERY_BROKER_URL": "filesystem://",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", scenario], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
