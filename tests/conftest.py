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
