"""How much data the bench loads (``BENCH_ISSUES``) and which database holds each size.

No Django here: ``benchmarks.run`` reads it before ``django.setup()``, to know which
database to point Django at.

``BENCH_ISSUES`` (default 1 000 000; at least 10 000; ``_`` and spaces allowed) is the
number of issues; everything else that grows with a city is in proportion to it (see
``benchmarks.data``). Each size has its own database, so switching sizes never forces
a reload: ``commonground_bench`` for 1 000 000 issues (as before sizes existed),
``commonground_bench_<issues>`` for any other size (``commonground_bench_5000000``).
``BENCH_DATABASE_URL`` overrides the asked size's database; other sizes (the HTTP
benchmark measures several) then use their default names on that same server.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

DEFAULT_ISSUES = 1_000_000
MIN_ISSUES = 10_000
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def parse_issues(raw: str) -> int:
    text = raw.replace("_", "").replace(" ", "").strip()
    try:
        issues = int(text)
    except ValueError:
        raise ValueError(f"bench size {raw!r} is not a whole number of issues") from None
    if issues < MIN_ISSUES:
        raise ValueError(f"bench size {issues} is below {MIN_ISSUES:,} issues")
    return issues


def issues_asked() -> int:
    """The size this run loads and measures (``BENCH_ISSUES``)."""
    raw = os.environ.get("BENCH_ISSUES", "")
    return parse_issues(raw) if raw.strip() else DEFAULT_ISSUES


def database_name(issues: int) -> str:
    return "commonground_bench" if issues == DEFAULT_ISSUES else f"commonground_bench_{issues}"


def database_url(issues: int | None = None) -> str:
    """The database holding ``issues`` issues (default: the asked size)."""
    asked = issues_asked()
    issues = asked if issues is None else issues
    override = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if override and issues == asked:
        return override
    server = DEFAULT_SERVER
    if override:
        parsed = urlparse(override)
        server = f"{parsed.scheme}://{parsed.netloc}"
    return f"{server}/{database_name(issues)}"


def label(issues: int) -> str:
    """Short name of a size for figure keys: ``1m``, ``5m``, ``2.5m``, ``50k``."""
    if issues >= 1_000_000:
        return f"{issues / 1_000_000:g}m"
    return f"{issues / 1000:g}k"


def spelled(issues: int) -> str:
    """``1 000 000``: the README's way of writing a count."""
    return f"{issues:,}".replace(",", " ")
