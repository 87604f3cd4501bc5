"""Staff sign-in (lockout counted in Redis, no user enumeration), sign-out, navigation by role."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import views as accounts
from tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is not under test here; users are created in every test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PASSWORD = "pw-Secret-123"
LOGIN = "/accounts/login/"


def _login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def _signed_in(client):
    return "_auth_user_id" in client.session


def test_login_page_renders_with_the_form_first(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    # The sign-in button is the page's first submit button (the language switch sits below the form).
    first_submit = body.index('type="submit"')
    assert body[first_submit - 200 : first_submit + 100].count("Sign in") == 1


def test_officer_signs_in_and_lands_on_the_queue(client, officer):
    response = _login(client, officer.username, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/queue/"
    assert _signed_in(client)


def test_supervisor_lands_on_the_dashboard_and_next_is_honoured(client, supervisor):
    assert _login(client, supervisor.username, PASSWORD)["Location"] == "/dashboard/"
    client.logout()
    response = _login(client, supervisor.username, PASSWORD, next="/issues/?status=open")
    assert response["Location"] == "/issues/?status=open"
    client.logout()
    # An open redirect to another site is refused: Django's safe-URL check falls back to the default.
    response = _login(client, supervisor.username, PASSWORD, next="https://evil.example/")
    assert response["Location"] == "/dashboard/"


def test_signed_in_user_visiting_login_is_sent_on(client, officer):
    client.force_login(officer)
    assert client.get(LOGIN)["Location"] == "/queue/"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, officer):
    wrong = _login(client, officer.username, "not-the-password")
    unknown = _login(client, "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert not _signed_in(client)
    message = "Please enter a correct username and password"
    assert message in wrong.content.decode() and message in unknown.content.decode()
    # Nothing in the answer tells whether the account exists.
    assert wrong.context["form"].errors == unknown.context["form"].errors


def test_inactive_user_cannot_sign_in_and_is_not_revealed(client, officer):
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    response = _login(client, officer.username, PASSWORD)
    assert not _signed_in(client)
    assert "Please enter a correct username and password" in response.content.decode()


def test_lockout_after_five_failures_even_with_the_right_password(client, officer):
    for attempt in range(1, 5):
        response = _login(client, officer.username, f"wrong-{attempt}")
        assert response.status_code == 200
        assert "locked for 15 minutes;" not in response.content.decode()
    fifth = _login(client, officer.username, "wrong-5")
    assert fifth.status_code == 429
    assert "Too many failed sign-in attempts. Sign-in is locked for 15 minutes" in fifth.content.decode()

    locked = _login(client, officer.username, PASSWORD)
    assert locked.status_code == 429
    assert not _signed_in(client)
    assert "Too many failed sign-in attempts" in locked.content.decode()


def test_lockout_is_per_username_and_ip(client, officer, supervisor):
    for _ in range(5):
        _login(client, officer.username, "wrong", ip="10.0.0.1")
    assert _login(client, officer.username, PASSWORD, ip="10.0.0.1").status_code == 429
    # Another user from the same address, and the same user from another address, may sign in.
    assert _login(client, supervisor.username, PASSWORD, ip="10.0.0.1").status_code == 302
    client.logout()
    assert _login(client, officer.username, PASSWORD, ip="10.0.0.2").status_code == 302


def test_lockout_counts_usernames_case_insensitively_and_unknown_ones_too(client, officer):
    for name in ["Officer-X", "officer-x", "OFFICER-X", "officer-X", "Officer-x"]:
        _login(client, name, "wrong")
    response = _login(client, "officer-x", "wrong")
    assert response.status_code == 429  # an unknown username locks exactly like a real one


def test_lock_ends_after_fifteen_minutes(client, officer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _login(client, officer.username, "wrong")
        assert _login(client, officer.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        response = _login(client, officer.username, PASSWORD)
        assert response.status_code == 429
        assert "locked for 1 minute;" in response.content.decode()
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert _login(client, officer.username, PASSWORD).status_code == 302


def test_success_clears_the_failures(client, officer):
    for _ in range(4):
        _login(client, officer.username, "wrong")
    assert _login(client, officer.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, officer.username, "wrong").status_code == 200
    assert _login(client, officer.username, PASSWORD).status_code == 302


def test_one_address_spraying_many_usernames_is_locked(client, settings, officer):
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    for n in range(6):
        _login(client, f"guess-{n}", "wrong", ip="10.9.9.9")
    assert _login(client, officer.username, PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, officer.username, PASSWORD, ip="10.9.9.8").status_code == 302


def test_failure_counters_live_in_redis_without_usernames(client, settings, officer):
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"] == "core.cache.FailoverCache"
    _login(client, officer.username, "wrong")
    keys = [key.decode() for key in cache.primary._cache.get_client().keys("*login:*")]
    assert keys
    assert all(officer.username not in key for key in keys)


def test_logout_is_post_only(client, officer):
    client.force_login(officer)
    assert client.get("/accounts/logout/").status_code == 405
    assert _signed_in(client)
    response = client.post("/accounts/logout/", follow=True)
    assert not _signed_in(client)
    assert "You are signed out." in response.content.decode()


@pytest.mark.parametrize("url", ["/queue/", "/issues/", "/issues/search/?q=x", "/accounts/password/"])
def test_anonymous_visitor_is_sent_to_login(client, url, db):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{LOGIN}?next=")


def test_password_change(client, officer):
    client.force_login(officer)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Another-Long-pw-77", "new_password2": "Another-Long-pw-77"},
    )
    assert response["Location"] == "/accounts/password/done/"
    officer.refresh_from_db()
    assert officer.check_password("Another-Long-pw-77")


def test_navigation_shows_each_role_what_it_may_use(client, officer, supervisor):
    body = client.get("/").content.decode()
    assert 'href="/queue/"' not in body and 'href="/dashboard/"' not in body
    assert 'href="/accounts/login/"' in body

    client.force_login(officer)
    body = client.get("/queue/").content.decode()
    assert 'href="/queue/"' in body and 'href="/issues/"' in body and 'href="/outreach/"' in body
    assert 'href="/dashboard/"' not in body
    assert 'action="/accounts/logout/"' in body

    client.force_login(supervisor)
    body = client.get("/queue/").content.decode()
    assert 'href="/dashboard/"' in body


def test_user_without_a_role_gets_403_on_staff_pages(client, db):
    user = factories.UserFactory()
    client.force_login(user)
    assert client.get("/queue/").status_code == 403
    assert client.get("/issues/").status_code == 403


def test_lockout_message_rounds_up_minutes():
    assert "1 minute;" in accounts.lockout_message(5)
    assert "15 minutes;" in accounts.lockout_message(900)


def test_behind_the_tls_proxy_each_client_address_is_counted_apart(client, settings, officer):
    """The proxy's own address is every request's REMOTE_ADDR; the hop it appends is the client."""
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1

    def via_proxy(password, forwarded):
        data = {"username": officer.username, "password": password}
        return client.post(LOGIN, data, REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded)

    for _ in range(5):
        via_proxy("wrong", "203.0.113.5")
    locked = via_proxy(PASSWORD, "203.0.113.5")
    assert locked.status_code == 429
    # Another resident of the city behind the same proxy is not locked out …
    assert via_proxy(PASSWORD, "203.0.113.6").status_code == 302
    client.logout()
    # … and a client cannot escape its lock by writing its own X-Forwarded-For hop first.
    spoofed = via_proxy(PASSWORD, "1.2.3.4, 203.0.113.5")
    assert spoofed.status_code == 429
