"""A crawl of a running CommonGround over HTTP, as one role in one language.

It starts from every route of the URL map that needs no parameter (so a new page is
crawled without anyone adding it here), follows every same-site link it finds (GET
only; forms are not submitted), and visits at most a few URLs per route so a list of
a thousand issues costs what a list of three does. Every answer is recorded; static
files the pages reference are fetched too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse, urlunparse

import requests

# Never followed: they sign out, or change state on a GET by design of a third party.
SKIP = re.compile(r"^/(accounts/logout/|admin/logout/|i18n/)")
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+(\.gz)?$")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("script", "img", "source") and attrs.get("src"):
            self.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.assets.append(attrs["href"])


def url_map_routes(urlconf=None) -> list[str]:
    """Every path of the URL map without a parameter, English and /es/ for the translated ones."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern

    out: set[str] = set()

    def literal(pattern) -> str | None:
        if isinstance(pattern, LocalePrefixPattern):
            return ""
        if isinstance(pattern, RoutePattern):
            route = str(pattern._route)
            return None if "<" in route else route
        if isinstance(pattern, RegexPattern):
            regex = pattern._regex
            plain = regex.lstrip("^").rstrip("$").replace("\\Z", "")
            if re.search(r"[()\[\]*+?{}|.\\]", plain):
                return None
            return plain
        return None

    def walk(patterns, prefix, localized):
        for entry in patterns:
            part = literal(entry.pattern)
            if part is None:
                continue
            is_locale = isinstance(entry.pattern, LocalePrefixPattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + part, localized or is_locale)
            elif isinstance(entry, URLPattern):
                path = "/" + prefix + part
                out.add(path)
                if localized:
                    out.add("/es" + path)

    walk(get_resolver(urlconf).url_patterns, "", False)
    return sorted(path for path in out if not SKIP.match(path))


def route_of(path: str) -> str:
    """The URL pattern a path resolves to (its route), so visits can be counted per page kind."""
    from django.urls import Resolver404, resolve
    from django.utils import translation

    language = "es" if path.startswith("/es/") or path == "/es" else "en"
    with translation.override(language):
        try:
            match = resolve(path)
        except Resolver404:
            return f"unresolved:{path}"
    return f"{language}:{match.route}"


@dataclass
class Visit:
    url: str
    status: int
    content_type: str


@dataclass
class CrawlResult:
    visits: list[Visit] = field(default_factory=list)
    assets: dict[str, int] = field(default_factory=dict)  # static path → status

    @property
    def server_errors(self) -> list[Visit]:
        return [visit for visit in self.visits if visit.status >= 500]

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for visit in self.visits:
            counts[visit.status] += 1
        return dict(counts)

    def routes(self) -> set[str]:
        return {route_of(urlparse(visit.url).path) for visit in self.visits}


class Crawler:
    def __init__(
        self,
        base_url: str,
        *,
        headers: dict | None = None,
        language: str = "en",
        per_route: int = 3,
        max_pages: int = 600,
        extra_starts: list[str] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.headers["Accept-Language"] = language
        self.language = language
        self.per_route = per_route
        self.max_pages = max_pages
        self.extra_starts = extra_starts or []

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        response = self.session.request(method, url, timeout=60, **kwargs)
        # Behind the TLS proxy a browser holds Secure cookies for https://; this client talks
        # plain HTTP to the app behind the proxy, so it keeps sending them.
        for cookie in self.session.cookies:
            cookie.secure = False
        return response

    # --- signing in through the real form -------------------------------------------------

    def checked_login(self, username: str, password: str) -> None:
        page = self.request("GET", f"{self.base_url}/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = self.request(
            "POST",
            f"{self.base_url}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": username, "password": password},
            headers={"Referer": f"{self._origin()}/accounts/login/"},
            allow_redirects=False,
        )
        assert answer.status_code == 302, f"sign-in as {username} failed: {answer.status_code}"

    def _origin(self) -> str:
        if self.session.headers.get("X-Forwarded-Proto") == "https":
            return "https://" + urlparse(self.base_url).netloc
        return self.base_url

    # --- the crawl --------------------------------------------------------------------------

    def _normalise(self, href: str, page_url: str) -> str | None:
        absolute = urljoin(page_url, href)
        parsed = urlparse(absolute)
        mine = urlparse(self.base_url)
        if parsed.scheme not in ("http", "https") or parsed.netloc.lower() != mine.netloc.lower():
            return None
        return urlunparse(("http", mine.netloc, parsed.path, "", parsed.query, ""))

    def crawl(self) -> CrawlResult:
        result = CrawlResult()
        starts = [f"{self.base_url}{path}" for path in url_map_routes()] + [
            f"{self.base_url}{path}" for path in self.extra_starts
        ]
        queue: list[str] = list(dict.fromkeys(starts))
        seen: set[str] = set(queue)
        per_route: dict[str, int] = defaultdict(int)
        while queue and len(result.visits) < self.max_pages:
            url = queue.pop(0)
            path = urlparse(url).path
            if SKIP.match(path) or path.startswith("/static/") or path.startswith("/media/"):
                continue
            route = route_of(path)
            if per_route[route] >= self.per_route:
                continue
            per_route[route] += 1
            response = self.request("GET", url, allow_redirects=False)
            result.visits.append(Visit(url, response.status_code, response.headers.get("Content-Type", "")))
            targets = []
            if response.is_redirect and response.headers.get("Location"):
                targets.append(response.headers["Location"])
            if "text/html" in response.headers.get("Content-Type", ""):
                parser = _Links()
                parser.feed(response.text)
                targets += parser.links
                for asset in parser.assets:
                    self._fetch_asset(urljoin(url, asset), result)
            for href in targets:
                found = self._normalise(href, url)
                if found and found not in seen:
                    seen.add(found)
                    queue.append(found)
        return result

    def _fetch_asset(self, url: str, result: CrawlResult) -> None:
        path = urlparse(url).path
        if not path.startswith("/static/") or path in result.assets:
            return
        response = self.request("GET", self.base_url + path)
        result.assets[path] = response.status_code
        if response.ok and path.endswith(".css"):
            # Files a stylesheet pulls in (images, fonts) must be hashed and served too.
            for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", response.text):
                if not ref.startswith(("data:", "#", "http:", "https:")):
                    self._fetch_asset(urljoin(self.base_url + path, ref.split("?")[0].split("#")[0]), result)
