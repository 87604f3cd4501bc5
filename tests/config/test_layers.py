"""The layers `.importlinter` states hold, and a file that breaks one is caught (`make test` runs lint-imports too)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _layers() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter:contract:layers"]["layers"].split()


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layers_run_from_config_down_to_core_and_every_app_is_in_one():
    assert _layers() == ["config", "demo", "insights", "outreach", "cases", "partners", "accounts", "core"]
    apps = {name.split(".")[0] for name in settings.INSTALLED_APPS}
    assert {"core", "accounts", "partners", "cases", "outreach", "insights", "demo"} <= apps
    assert set(_layers()) - {"config"} <= apps


def test_the_tree_keeps_the_layers():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_up_a_layer_breaks_the_contract(tmp_path):
    for package in _layers():
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("migrations", "__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    with (tmp_path / "partners" / "models.py").open("a") as models:
        models.write("\nfrom outreach.models import Activity  # noqa\n")
    done = _lint(tmp_path)
    assert done.returncode != 0
    assert "partners is not allowed to import outreach" in done.stdout
    assert "partners.models -> outreach.models" in done.stdout
