"""Run a scenario on SQLite, the embedded database of ``make run``, while the suite runs on PostgreSQL.

The scenario is Python source run in a subprocess whose DATABASE_URL is a fresh SQLite file
(it calls ``django.setup()`` and migrates itself); its last line of output is JSON, returned.

The file starts as a copy of one migrated once per test process (``_migrated``): every migration
on SQLite takes about ten seconds, and sixteen scenarios ran them all again. The scenario's own
``migrate`` still runs, and finds nothing left to do. The migrations themselves are run from an
empty file by the template, by ``make run``'s test and by the embedded-mode tests.
"""

import atexit
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_TEMPLATE: list[Path] = []


def _environment(database: Path, var: Path, **env) -> dict:
    environment = dict(os.environ)
    environment.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "VAR_DIR": str(var),
            "CELERY_BROKER_URL": "filesystem://",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    return environment


def _migrated() -> Path:
    """A SQLite file with every migration applied, made once per test process."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="cg-sqlite-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database = folder / "migrated.sqlite3"
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            env=_environment(database, folder / "var"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        _TEMPLATE.append(database)
    return _TEMPLATE[0]


def _copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (the write-ahead log included)."""
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    reading.close()
    writing.close()


def checked_run_on_sqlite(scenario: str, tmp_path: Path, **env) -> dict:
    database = tmp_path / "embedded.sqlite3"
    _copy(_migrated(), database)
    done = subprocess.run(
        [sys.executable, "-c", scenario],
        cwd=ROOT,
        env=_environment(database, tmp_path / "var", **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
