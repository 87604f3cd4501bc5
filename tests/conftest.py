import pytest
from django.contrib.auth.models import Group

from tests import factories


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
    """The neighborhood around the public-form tests' map centre (tests/cases/public_helpers)."""
    from tests.cases.public_helpers import center_neighborhood

    return center_neighborhood()


@pytest.fixture
def cat():
    """The public graffiti category of the public-form tests."""
    from tests.cases.public_helpers import graffiti

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
def production_build(tmp_path_factory):
    """The image's files as the Dockerfile builds them, in a folder (tests/stack.py)."""
    from tests.stack import DockerfileBuild

    return DockerfileBuild(tmp_path_factory.mktemp("image") / "app").run()


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
