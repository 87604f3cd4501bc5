import pytest
from django.contrib.auth.models import Group

from tests import factories

# `make test` runs the suite on two pytest-xdist workers with `--dist loadgroup
# --no-loadscope-reorder`: every test goes to whichever worker is free, in collection order,
# except the groups below, each of which runs whole on one worker, in sequence. A group holds
# the tests that share something costly or fixed: a module-scoped server or data set, or the
# session's production build and stack (tests/stack.py), which one worker builds and starts once.
# The groups are listed longest first and go to the front of the queue, so the two workers start
# on the two longest and finish together (each group alone takes 20-90 s; everything else is
# short). None of them uses a database that a transactional test may have flushed before it,
# so moving them ahead of pytest-django's order (database tests, then transactional tests,
# then the rest) changes nothing for the tests they pass.
XDIST_GROUPS = {
    "tests/config/test_production_build.py": "production-stack",
    "tests/config/test_redis_outage.py": "production-stack",
    "tests/perf/test_list_plans.py": "list-plans",
    "tests/config/test_embedded_mode.py": "embedded-mode",
    "tests/api/test_filters_sqlite.py": "filters-sqlite",
    "tests/config/test_make_run.py": "make-run",
    "tests/config/test_file_broker.py": "file-broker",
}
_GROUP_ORDER = {name: n for n, name in enumerate(dict.fromkeys(XDIST_GROUPS.values()))}


def _module(item) -> str:
    return item.nodeid.split("::", 1)[0]


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items):
    # Marked before the other hooks run: xdist's tags each grouped test's id with its group.
    for item in items:
        group = XDIST_GROUPS.get(_module(item))
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    yield
    # After pytest-django's sort: the groups first, longest first; the rest keeps its order.
    grouped = [item for item in items if _module(item) in XDIST_GROUPS]
    grouped.sort(key=lambda item: _GROUP_ORDER[XDIST_GROUPS[_module(item)]])  # stable: keeps test order
    rest = [item for item in items if _module(item) not in XDIST_GROUPS]
    items[:] = grouped + rest


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # PBKDF2 costs ~0.3 s per test user on 2 cores; tests are not about hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _language_does_not_leak():
    """A request to an /es/ page leaves Spanish active in this thread (LocaleMiddleware activates a
    language per request; nothing deactivates it after the test client's answer). The next test
    must not inherit it: pytest-django runs the tests without a database last, after whatever
    request happened to come before them."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def place():
    """The neighborhood around the public-form tests' map centre (tests/cases/web/public/public_helpers)."""
    from tests.cases.web.public.public_helpers import center_neighborhood

    return center_neighborhood()


@pytest.fixture
def cat():
    """The public graffiti category of the public-form tests."""
    from tests.cases.web.public.public_helpers import graffiti

    return graffiti()


@pytest.fixture
def neighborhood(db):
    return factories.NeighborhoodFactory()


@pytest.fixture
def category(db):
    return factories.CategoryFactory()


@pytest.fixture
def officer(db, neighborhood):
    return factories.officer(neighborhoods=[neighborhood])


@pytest.fixture
def other_officer(db):
    """An officer of another district, with no tie to ``neighborhood``."""
    return factories.officer(districts=["Elsewhere"])


@pytest.fixture
def supervisor(db, neighborhood):
    return factories.supervisor(districts=[neighborhood.district])


@pytest.fixture
def roles(db):
    return {g.name: g for g in Group.objects.all()}


@pytest.fixture(scope="session")
def production_build(tmp_path_factory, worker_id):
    """The image's files as the Dockerfile builds them, in a folder (tests/stack.py).

    Built once per run: under xdist the first worker to need it builds it in the folder the
    workers share (the parent of each one's temporary folder) while holding a lock; a worker
    that needs it later takes that build. Its processes run from the same copy, as compose's
    containers run from one image."""
    import fcntl
    import json

    from tests.stack import DockerfileBuild

    if worker_id == "master":
        return DockerfileBuild(tmp_path_factory.mktemp("image") / "app").run()
    shared = tmp_path_factory.getbasetemp().parent
    build = DockerfileBuild(shared / "image" / "app")
    # What the build learnt from the Dockerfile, for the workers that take it as built.
    learnt = ("env", "base_image", "user", "cmd", "ran", "skipped")
    with open(shared / "image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = shared / "image.json"
        if built.exists():
            vars(build).update(json.loads(built.read_text()))
        else:
            build.run()
            built.write_text(json.dumps({name: getattr(build, name) for name in learnt}))
    return build


@pytest.fixture(scope="session")
def production_stack(production_build, tmp_path_factory):
    """The image run as docker-compose.yml runs it (tests/stack.py), on a PostgreSQL database
    of its own with the demo data, and a Redis of its own."""
    import os

    from tests.redis_server import RedisServer, free_port
    from tests.stack import ComposeStack, create_database, drop_database

    root = tmp_path_factory.mktemp("stack")
    build = production_build
    redis = RedisServer(root / "redis").start()
    database_url = create_database(f"cg_stack_{os.getpid()}", admin_url=os.environ["DATABASE_URL"])
    stack = ComposeStack(
        build,
        database_url=database_url,
        redis_url=redis.url(0),
        port=free_port(),
        logs=root / "logs",
        # Beat's first run comes one interval after it starts: seconds, not a minute.
        extra_env={"ESCALATION_SWEEP_SECONDS": "5", "OUTBOX_DRAIN_SECONDS": "5"},
    )
    stack.redis = redis
    try:
        stack.run_once("migrate")
        # seed_demo refuses ENVIRONMENT=production; the rows it writes are the same either way.
        stack.manage("seed_demo", ENVIRONMENT="development")
        stack.start("web", "worker", "beat")
        yield stack
    finally:
        stack.stop()
        redis.stop()
        drop_database(database_url)
