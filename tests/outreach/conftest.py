import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users are created by the dozen here; PBKDF2's million rounds would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
