"""``manage.py seed_demo``: demo data a community-policing unit would recognise.

Twelve Kansas City-like neighborhoods in four patrol districts (from
``demo/data/neighborhoods.geojson``, loaded through the normal importer),
quality-of-life categories in English and Spanish with SLAs and escalation
ladders, partner organisations with contacts, demo staff accounts, several
hundred issues over the last 90 days in every status with their reports,
timelines, escalations and feedback, SARA problem-solving projects and more
than a hundred outreach activities.

Deterministic (``--seed``), relative to now, all in one transaction, and
idempotent: the demo Open311 client (key ``demo-open311-key``) is written in
the same transaction, so when it exists the data is complete and a second run
only makes sure the demo logins still use ``DEMO_PASSWORD``.

Issues, reports and events are written with ``bulk_create`` rather than one
service call per change: the services stamp ``timezone.now()`` and lock rows,
while a demo needs 90 days of history written in seconds. The rows follow the
same rules the services enforce (and the database checks).
"""

from __future__ import annotations

import json
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from accounts.roles import ADMINISTRATOR, OFFICER, SUPERVISOR, roles_sync
from cases.escalation.ladders import escalation_ladder_set
from cases.models import (
    PRIORITY_ORDER,
    TRACKING_ALPHABET,
    ApiClient,
    Approach,
    AssignmentRule,
    Category,
    CategoryAttribute,
    Escalation,
    EscalationRule,
    Event,
    Feedback,
    Issue,
    Notification,
    Priority,
    Problem,
    ProblemEvent,
    Report,
    ResponseTemplate,
)
from cases.redaction import mask_text
from insights.figures.pulse import quarter_before, quarter_of
from insights.models import PulseAnswer, PulseResponse, PulseStatement
from insights.pulse import pulse_statements_default
from insights.rollups import rollups_rebuild
from outreach.models import Activity
from outreach.services import partner_figures_refresh
from partners import geo
from partners.address_import import AddressRow
from partners.addresses import normalize
from partners.models import AddressPoint, Neighborhood, Partner, PartnerContact, StaffProfile
from partners.services import NeighborhoodImportError, address_points_import, neighborhoods_import

User = get_user_model()

DEMO_DIR = settings.BASE_DIR / "demo" / "data"
DEMO_API_KEY = "demo-open311-key"
DEMO_API_CLIENT = "Demo 311 app"
DEMO_USERNAMES = ("officer", "officer2", "supervisor", "admin")
S = Issue.Status
A = EscalationRule.Action

# --- categories and problems (data in demo/data/*.json) ----------------------


@dataclass
class CategorySpec:
    """One demo category as written in demo/data/categories.json."""

    code: str
    name_en: str
    name_es: str
    group: str
    hint_en: str
    hint_es: str
    hours: dict  # target hours per priority: urgent <= high <= normal <= low
    ladder: str  # key into the file's "ladders": the default escalation rules
    weight: int  # how often residents report it, relative to the others
    texts_en: list
    texts_es: list
    keywords: str = ""
    is_public: bool = True
    referral: str = ""  # the agency a referral goes to; empty: never referred
    crime_share: float = 0.02  # share of its closed issues that became crime reports
    hotspot: dict = field(default_factory=lambda: {"threshold": 3, "window_hours": 336})
    attributes: list = field(default_factory=list)


def demo_file(name):
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


# --- staff ---------------------------------------------------------------------

# username, first, last, role, neighborhoods, districts, languages, badge
STAFF = [
    ("officer", "Daniel", "Ortiz", OFFICER, ["River Market", "Columbus Park", "Crossroads"], [], ["en", "es"], "4127"),
    (
        "officer2",
        "Linh",
        "Tran",
        OFFICER,
        ["Pendleton Heights", "Historic Northeast", "Ivanhoe"],
        [],
        ["en", "vi"],
        "4388",
    ),
    ("supervisor", "Rosa", "Méndez", SUPERVISOR, [], ["Central", "East"], ["en", "es"], "2201"),
    ("admin", "Pat", "Gallagher", ADMINISTRATOR, [], [], ["en"], ""),
    ("officer3", "Marcus", "Bell", OFFICER, ["Westside", "Westport", "Midtown"], [], ["en", "es"], "4512"),
    ("officer4", "Hodan", "Abdi", OFFICER, [], ["East"], ["en", "so", "ar"], "4620"),
    ("officer5", "Jake", "Sullivan", OFFICER, ["18th & Vine", "Hyde Park", "Blue Hills"], [], ["en"], "4733"),
    ("officer6", "Valeria", "Cruz", OFFICER, [], ["Metro", "South"], ["en", "es"], "4841"),
    ("supervisor2", "Gregory", "Hale", SUPERVISOR, [], ["Metro", "South"], ["en"], "2305"),
]

# --- text pools ------------------------------------------------------------------

STREETS = {
    "River Market": ["Delaware St", "Walnut St", "Grand Blvd", "E 3rd St", "Main St"],
    "Columbus Park": ["Holmes St", "Charlotte St", "E 5th St", "Gillis St", "Harrison St"],
    "Crossroads": ["Southwest Blvd", "Baltimore Ave", "W 18th St", "Wyandotte St", "Oak St"],
    "Pendleton Heights": ["Lexington Ave", "Thompson Ave", "Woodland Ave", "Garfield Ave"],
    "Historic Northeast": ["Independence Ave", "Van Brunt Blvd", "Elmwood Ave", "St John Ave", "Benton Blvd"],
    "Ivanhoe": ["Prospect Ave", "E 39th St", "Park Ave", "Montgall Ave", "Wabash Ave"],
    "Westside": ["Summit St", "W 24th St", "Jarboe St", "Belleview Ave", "Southwest Blvd"],
    "Westport": ["Westport Rd", "Pennsylvania Ave", "Mill St", "Broadway Blvd"],
    "Midtown": ["Main St", "Gillham Rd", "E 31st St", "Warwick Blvd", "Armour Blvd"],
    "18th & Vine": ["Vine St", "E 18th St", "Highland Ave", "Woodland Ave", "Paseo Blvd"],
    "Hyde Park": ["Harrison Blvd", "Gillham Rd", "E 39th St", "Troost Ave", "Campbell St"],
    "Blue Hills": ["Prospect Ave", "E 55th St", "Bales Ave", "Brooklyn Ave", "Swope Pkwy"],
}
NEIGHBORHOOD_WEIGHT = {
    "Historic Northeast": 14,
    "Westside": 11,
    "Ivanhoe": 11,
    "Blue Hills": 10,
    "Crossroads": 9,
    "Midtown": 9,
    "Pendleton Heights": 7,
    "18th & Vine": 7,
    "Hyde Park": 6,
    "Columbus Park": 6,
    "Westport": 6,
    "River Market": 4,
}
FIRST_EN = ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Keisha", "Darnell"]
FIRST_EN += ["Tanya", "Andre", "Brian", "Megan", "Thu", "Hodan", "Omar", "Grace"]
LAST_EN = ["Johnson", "Williams", "Brown", "Davis", "Miller", "Wilson", "Moore", "Taylor", "Jackson", "Harris"]
LAST_EN += ["Robinson", "Nguyen", "Warsame", "Okafor", "Schmidt", "Coleman"]
FIRST_ES = ["María", "José", "Guadalupe", "Juan", "Rosa", "Luis", "Carmen", "Miguel", "Ana", "Jorge", "Lucía"]
LAST_ES = ["García", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres", "Flores"]
NOTES_INTERNAL = [
    "Drove by at 22:00, confirmed. Spoke with two neighbors who see it nightly.",
    "Called the property owner; left a voicemail with the landlord's management company.",
    "Checked the block: same problem two doors down, may be one issue.",
    "Coordinated with Code Enforcement; inspector will visit this week.",
    "Spoke with the store manager, agreed to add lighting and trespass signs.",
    "Reporter prefers a call back in Spanish; noted for follow-up.",
    "Extra patrol requested for the next two weekends.",
    "Photos taken and added to the case file.",
]
NOTES_PUBLIC = [
    "An officer visited and confirmed the problem. We are working with the city on it.",
    "Work order placed with the responsible city department.",
    "We met with the property owner, who agreed to fix it within two weeks.",
    "Un agente visitó el lugar y confirmó el problema. Estamos trabajando en ello.",
    "Extra patrols are scheduled in the evenings this week.",
]
HOLD_REASONS = [
    "Waiting for the property owner to answer the notice (10-day deadline).",
    "Waiting on a Public Works work order.",
    "Waiting for the court date on the nuisance case.",
    "Esperando respuesta del propietario.",
    "Waiting for the Land Bank to board the house.",
]
RESOLUTIONS = [
    "Cleaned up with the city crew; we will check the spot again next week.",
    "Owner fixed it after our visit; confirmed on a drive-by.",
    "Extra patrols and a talk with the people involved; no more reports for two weeks.",
    "Partner volunteers and officers cleared it on Saturday.",
    "Lighting repaired and trespass signs posted.",
    "Resuelto con el propietario; se confirmó en una visita.",
]
DECISIONS = [
    "Approved overtime clean-up with Public Works this week.",
    "Assign to the problem-solving team.",
    "Keep with the beat officer; follow up in 48 hours.",
    "Send a formal notice through Code Enforcement.",
    "Hold until the owner's court date; check weekly.",
]
CRIME_NOTES = [
    "Burglary in progress at the location; arrest made and report filed.",
    "Officers recovered a stolen vehicle on site.",
    "Assault during a disturbance at the location; report taken.",
    "Narcotics sale observed; case filed with the drug enforcement unit.",
]
PLACES = {
    Activity.Kind.SCHOOL_EVENT: ["gym", "library", "front lawn", "cafeteria"],
    Activity.Kind.YOUTH_SPORTS: ["ball fields", "community center gym", "Budd Park fields", "rec center court"],
    Activity.Kind.COMMUNITY_MEETING: ["library meeting room", "church hall", "community center"],
    Activity.Kind.SERVICE: ["Summit St lot", "church parking lot", "food pantry warehouse"],
    Activity.Kind.CLEAN_UP: ["alleys off the avenue", "vacant lot on the corner", "creek trail", "rail underpass"],
    Activity.Kind.DOOR_TO_DOOR: ["the 2400 block", "the apartments by the bus stop", "the blocks around the park"],
    Activity.Kind.PARTNER_MEETING: ["partner's office", "district station", "coffee shop"],
    Activity.Kind.CULTURAL: ["the plaza", "community center", "church hall", "the park shelter"],
    Activity.Kind.OTHER: ["district station", "neighborhood park"],
}
ACTIVITY_TITLES = {
    Activity.Kind.SCHOOL_EVENT: [
        "Career day at {partner}",
        "Safe routes to school walk",
        "Reading buddies at {partner}",
    ],
    Activity.Kind.YOUTH_SPORTS: ["{partner} game", "Youth soccer clinic", "Officers vs. teens basketball night"],
    Activity.Kind.COMMUNITY_MEETING: [
        "{nbhd} monthly neighborhood meeting",
        "Bilingual community listening session",
        "Block captains meeting",
    ],
    Activity.Kind.SERVICE: [
        "Mobile shower day for day laborers",
        "Food pantry distribution",
        "Winter coat and blanket drive",
        "Grocery delivery to homebound seniors",
    ],
    Activity.Kind.CLEAN_UP: [
        "Alley clean-up with Solid Waste",
        "Graffiti paint-out",
        "Streetlight survey walk",
        "Community garden fence rebuild",
        "Porch repair for an elderly resident",
    ],
    Activity.Kind.DOOR_TO_DOOR: ["Door-to-door after neighbors' reports", "Welcome visits to new residents"],
    Activity.Kind.PARTNER_MEETING: ["Coordination meeting with {partner}", "Quarterly check-in with {partner}"],
    Activity.Kind.CULTURAL: [
        "Día de los Muertos community celebration",
        "Lunar New Year festival",
        "Somali community tea with officers",
        "Spanish-language safety forum",
    ],
    Activity.Kind.OTHER: ["Open house at the district station", "Ride-along for community leaders"],
}
ACTIVITY_KINDS = [  # kind, weight, (start hour range), (duration hours range), (attendance range), partner kinds
    (Activity.Kind.SCHOOL_EVENT, 14, (8, 14), (1, 3), (20, 180), [Partner.Kind.SCHOOL]),
    (Activity.Kind.YOUTH_SPORTS, 16, (16, 19), (1.5, 3), (15, 80), [Partner.Kind.YOUTH_LEAGUE]),
    (Activity.Kind.COMMUNITY_MEETING, 18, (18, 19), (1, 2), (10, 70), [Partner.Kind.NEIGHBORHOOD_ASSOCIATION]),
    (Activity.Kind.SERVICE, 12, (7, 11), (2, 5), (15, 120), [Partner.Kind.NONPROFIT, Partner.Kind.FAITH]),
    (Activity.Kind.CLEAN_UP, 14, (8, 10), (2, 5), (6, 40), [Partner.Kind.CITY_AGENCY, Partner.Kind.BUSINESS]),
    (Activity.Kind.DOOR_TO_DOOR, 10, (14, 17), (1, 3), (10, 60), []),
    (Activity.Kind.PARTNER_MEETING, 8, (9, 15), (0.5, 1.5), (2, 12), [Partner.Kind.NONPROFIT, Partner.Kind.BUSINESS]),
    (Activity.Kind.CULTURAL, 6, (11, 15), (2, 5), (40, 400), [Partner.Kind.FAITH, Partner.Kind.MEDIA]),
    (Activity.Kind.OTHER, 2, (10, 14), (1, 3), (5, 40), []),
]
ACTIVITY_ISSUE_CATEGORIES = {
    Activity.Kind.CLEAN_UP: {"illegal-dumping", "graffiti", "overgrown-lot", "junk-property", "broken-streetlight"},
    Activity.Kind.SERVICE: {"encampment", "day-laborers"},
    Activity.Kind.DOOR_TO_DOOR: None,  # any
    Activity.Kind.COMMUNITY_MEETING: None,
}


@dataclass
class IssuePlan:
    """One issue's whole history, decided before anything is written."""

    fields: dict
    category: CategorySpec
    neighborhood: Neighborhood
    created_at: datetime
    end_at: datetime | None = None  # when it stopped being open
    reports: list = field(default_factory=list)  # dicts
    events: list = field(default_factory=list)  # dicts (+ "report": index into reports)
    escalations: list = field(default_factory=list)
    feedback: list = field(default_factory=list)
    notifications: list = field(default_factory=list)
    problem_key: object = None
    problem_joined: tuple | None = None  # (when, why) for escalation and hot-spot problems
    duplicate_of: IssuePlan | None = None
    merged_reports: list = field(default_factory=list)  # (plan, report index) moved here from duplicates
    issue: Issue | None = None


def _ascii(text):
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


# --- the demo city's streets ---------------------------------------------------------

MAIN_LNG = -94.5836  # Main Street: "East" and "West" numbered streets begin here
NORTH_LAT = 39.1200  # the river: numbers grow southward from here
STREET_GAP_LAT, STREET_GAP_LNG = 0.003, 0.004  # between two streets
HOUSE_GAP = 0.0025  # between two address points along a street
WEST_STREETS = (
    "Main St", "Delaware St", "Wyandotte St", "Central St", "Broadway Blvd", "Washington St", "Pennsylvania Ave",
    "Jefferson St", "Summit St", "Madison Ave", "Belleview Ave", "Roanoke Pkwy", "Jarboe St", "Holly St",
    "Mercier St", "Genessee St",
)  # fmt: skip
EAST_STREETS = (
    "Walnut St", "Grand Blvd", "McGee St", "Oak St", "Locust St", "Cherry St", "Holmes St", "Charlotte St",
    "Campbell St", "Troost Ave", "Forest Ave", "Tracy Ave", "The Paseo", "Virginia Ave", "Woodland Ave",
    "Brooklyn Ave", "Prospect Ave", "Olive St",
)  # fmt: skip
BOX = (39.024, 39.118, -94.642, -94.518)  # the demo neighborhoods' extent (demo/data/neighborhoods.geojson)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def demo_street_addresses():
    """(number, street, lat, lng) of every house on the demo grid inside ``BOX``, in a fixed order."""
    south, north, west, east = BOX
    # Numbered streets, east–west: even numbers on the north side, odd on the south.
    row = 1
    while NORTH_LAT - row * STREET_GAP_LAT >= south:
        lat = round(NORTH_LAT - row * STREET_GAP_LAT, 6)
        name = f"{_ordinal(row + 2)} St"
        lng = west
        while lng <= east:
            blocks = abs(lng - MAIN_LNG) / STREET_GAP_LNG
            number = 100 + int(blocks * 100)
            side = "E" if lng >= MAIN_LNG else "W"
            for odd, offset in ((0, 0.00015), (1, -0.00015)):
                yield number - number % 2 + odd, f"{side} {name}", round(lat + offset, 6), round(lng, 6)
            lng += HOUSE_GAP
        row += 1
    # Named streets, north–south: one side of the street.
    named = [(name, MAIN_LNG - index * STREET_GAP_LNG) for index, name in enumerate(WEST_STREETS)]
    named += [(name, MAIN_LNG + index * STREET_GAP_LNG) for index, name in enumerate(EAST_STREETS, start=1)]
    for name, lng in named:
        if west <= lng <= east:
            lat = north
            while lat >= south:
                number = 100 + int((NORTH_LAT - lat) / STREET_GAP_LAT * 100)
                yield number - number % 2, name, round(lat, 6), round(lng + 0.00015, 6)
                lat -= HOUSE_GAP


class Command(BaseCommand):
    help = "Load demo data (neighborhoods, categories, partners, staff, issues, outreach). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1816, help="Random seed (same seed, same data).")
        parser.add_argument("--issues", type=int, default=640, help="How many issues to generate (default 640).")
        parser.add_argument("--activities", type=int, default=140, help="Outreach activities (default 140).")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo data even when ENVIRONMENT=production (never on a real department's database).",
        )

    def handle(self, *args, **opts):
        if getattr(settings, "PRODUCTION", False) and not opts["allow_production"]:
            raise CommandError("Refusing to load demo data with ENVIRONMENT=production (use --allow-production).")
        if opts["issues"] < 50 or opts["activities"] < 10:
            raise CommandError("Use at least 50 issues and 10 activities.")
        roles_sync()
        if ApiClient.objects.filter(key=DEMO_API_KEY).exists():
            reset = self._reset_demo_passwords()
            self.stdout.write(
                "Demo data already loaded; nothing to do."
                + (f" Reset the password of {', '.join(reset)} to DEMO_PASSWORD." if reset else "")
            )
            return
        seeder = Seeder(
            seed=opts["seed"],
            issue_count=opts["issues"],
            activity_count=opts["activities"],
            quiet=opts["verbosity"] == 0,
        )
        with transaction.atomic():
            counts = seeder.run()
            # Loaded in bulk, past the change log: the summary tables are counted from the rows.
            rollups_rebuild()
        summary = ", ".join(f"{n} {label}" for label, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        self.stdout.write(f"Demo logins (password from DEMO_PASSWORD): {', '.join(DEMO_USERNAMES)}.")

    def _reset_demo_passwords(self):
        """Second run: make sure the demo logins use DEMO_PASSWORD; touches nothing else."""
        reset, good_hashes = [], set()
        hashed = None
        for user in User.objects.filter(username__in=[s[0] for s in STAFF]).order_by("username"):
            if user.password in good_hashes:
                continue
            if check_password(settings.DEMO_PASSWORD, user.password):
                good_hashes.add(user.password)
                continue
            hashed = hashed or make_password(settings.DEMO_PASSWORD)
            User.objects.filter(pk=user.pk).update(password=hashed)
            reset.append(user.username)
        return reset


class Seeder:
    def __init__(self, *, seed, issue_count, activity_count, quiet=False):
        self.rng = random.Random(seed)
        self.now = timezone.now().replace(microsecond=0)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.issue_count = issue_count
        self.activity_count = activity_count
        self.bar = tqdm(total=issue_count + activity_count + 10, desc="seed_demo", unit="step", disable=quiet)
        self.label = ""
        self.codes = set(Issue.objects.values_list("tracking_code", flat=True))
        self.crime_numbers = set()

    # --- helpers --------------------------------------------------------------

    def step(self, label, n=1):
        if label != self.label:
            self.label = label
            self.bar.set_postfix_str(label, refresh=False)
        self.bar.update(n)

    def hours(self, h):
        return timedelta(hours=h)

    def ago(self, days):
        return self.now - timedelta(days=days)

    def between(self, start, end):
        """A random moment in [start, end] (whole seconds)."""
        seconds = max(0, int((end - start).total_seconds()))
        return start + timedelta(seconds=self.rng.randint(0, seconds))

    def local_at(self, day_offset, hour):
        """A local wall-clock time ``day_offset`` days ago at ``hour`` (may be fractional)."""
        local_day = (timezone.localtime(self.now, self.tz) - timedelta(days=day_offset)).date()
        base = datetime(local_day.year, local_day.month, local_day.day, tzinfo=self.tz)
        return base + timedelta(minutes=int(hour * 60 / 15) * 15)

    def tracking_code(self):
        while True:
            body = "".join(self.rng.choice(TRACKING_ALPHABET) for _ in range(8))
            code = f"CG-{body[:4]}-{body[4:]}"
            if code not in self.codes:
                self.codes.add(code)
                return code

    def weighted(self, pairs):
        items, weights = zip(*pairs, strict=True)
        return self.rng.choices(items, weights=weights)[0]

    def phone(self):
        # 555-01xx numbers are reserved for fiction.
        return f"(816) 555-01{self.rng.randint(0, 99):02d}"

    # --- run ------------------------------------------------------------------

    def run(self):
        try:
            self.load_neighborhoods()
            self.load_address_points()
            self.load_categories()
            self.load_response_templates()
            self.load_partners()
            self.load_staff()
            self.load_api_clients()
            self.plan_issues()
            self.write_issues()
            self.write_activities()
            self.write_pulse()
        finally:
            self.bar.close()
        return {
            "neighborhoods": Neighborhood.objects.count(),
            "address points": AddressPoint.objects.count(),
            "categories": Category.objects.count(),
            "response templates": ResponseTemplate.objects.count(),
            "partners": Partner.objects.count(),
            "staff": StaffProfile.objects.count(),
            "issues": Issue.objects.count(),
            "reports": Report.objects.count(),
            "events": Event.objects.count(),
            "escalations": Escalation.objects.count(),
            "problems": Problem.objects.count(),
            "activities": Activity.objects.count(),
            "trust survey answers": PulseResponse.objects.count(),
        }

    def load_neighborhoods(self):
        collection = demo_file("neighborhoods.geojson")
        try:
            neighborhoods_import(collection=collection)
        except NeighborhoodImportError as exc:  # the shipped file is broken: say so plainly
            raise CommandError(f"demo/data/neighborhoods.geojson: {exc}") from None
        by_name = {n.name: n for n in Neighborhood.objects.filter(name__in=NEIGHBORHOOD_WEIGHT)}
        for feature in collection["features"]:
            props = feature["properties"]
            hood = by_name[props["name"]]
            if hood.population is None and props.get("population"):
                hood.population = props["population"]
                hood.save(update_fields=["population", "updated_at"])
        self.hoods = [by_name[name] for name in sorted(by_name)]
        self.hood_by_name = by_name
        self.step("neighborhoods")

    def load_address_points(self):
        """A street grid laid over the demo city, Kansas City-style: numbered streets run east–west
        (East/West of Main), named streets north–south, a hundred numbers to a block; the houses
        inside a neighborhood become address points (through the importer's service, in bulk).
        Computed, not drawn from the seed's random numbers: the rest of the data is unchanged."""
        rows = []
        for number, street, lat, lng in demo_street_addresses():
            rows.append(
                AddressRow(
                    source_id=f"DEMO-{len(rows) + 1:05d}",
                    number=str(number),
                    street=street,
                    unit="",
                    city="Kansas City",
                    postal_code="",
                    label=f"{number} {street}, Kansas City",
                    search=normalize(f"{number} {street}"),
                    lat=lat,
                    lng=lng,
                )
            )
        address_points_import(rows=rows)
        # Only the points inside a demo neighborhood are kept: the grid's box is larger than the city.
        AddressPoint.objects.filter(source_id__startswith="DEMO-", neighborhood__isnull=True).delete()
        self.step("address points")

    def load_categories(self):
        data = demo_file("categories.json")
        groups, ladders = data["groups"], data["ladders"]
        self.category_specs = [CategorySpec(**row) for row in data["categories"]]
        existing = {c.service_code: c for c in Category.objects.all()}
        new = []
        for order, spec in enumerate(self.category_specs):
            if spec.code in existing:
                continue
            new.append(
                Category(
                    service_code=spec.code,
                    name_en=spec.name_en,
                    name_es=spec.name_es,
                    hint_en=spec.hint_en,
                    hint_es=spec.hint_es,
                    group_en=groups[spec.group]["en"],
                    group_es=groups[spec.group]["es"],
                    keywords=spec.keywords,
                    is_public=spec.is_public,
                    target_hours_urgent=spec.hours["urgent"],
                    target_hours_high=spec.hours["high"],
                    target_hours_normal=spec.hours["normal"],
                    target_hours_low=spec.hours["low"],
                    hotspot_threshold=spec.hotspot["threshold"],
                    hotspot_window_hours=spec.hotspot["window_hours"],
                    sort_order=order,
                )
            )
        Category.objects.bulk_create(new)
        self.categories = {
            c.service_code: c for c in Category.objects.filter(service_code__in=[s.code for s in self.category_specs])
        }
        attributes = []
        with_attributes = set(CategoryAttribute.objects.values_list("category_id", flat=True))
        with_rules = set(EscalationRule.objects.values_list("category_id", flat=True))
        for spec in self.category_specs:
            category = self.categories[spec.code]
            if category.pk not in with_attributes:
                for order, attribute in enumerate(spec.attributes):
                    attributes.append(CategoryAttribute(category=category, order=order, **attribute))
            if category.pk not in with_rules:  # an administrator's ladder is kept as it is
                ladder = [(level, r["hours_overdue"], r["action"]) for level, r in enumerate(ladders[spec.ladder], 1)]
                escalation_ladder_set(category=category, ladder=ladder)
        CategoryAttribute.objects.bulk_create(attributes)
        self.rules = {}
        for rule in EscalationRule.objects.filter(category__in=self.categories.values()).order_by("level"):
            self.rules.setdefault(rule.category_id, []).append(rule)
        self.specs = {spec.code: spec for spec in self.category_specs}
        self.step("categories")

    def load_response_templates(self):
        """A few public notes officers reuse, in both languages: one automatic ("we have your
        report", on acknowledging any category), the rest picked on the issue page. Kept as an
        administrator left them when they exist (matched by name)."""
        graffiti = self.categories.get("graffiti")
        rows = [
            {
                "name": "We have your report",
                "category": None,
                "status": Issue.Status.ACKNOWLEDGED,
                "auto": True,
                "text_en": "Thank you for reporting {category} in {neighborhood}. An officer will look into it; "
                "we aim to resolve it by {due}.",
                "text_es": "Gracias por reportar {category} en {neighborhood}. Un agente lo revisará; "
                "queremos resolverlo antes del {due}.",
            },
            {
                "name": "We are on it",
                "category": None,
                "status": Issue.Status.IN_PROGRESS,
                "text_en": "An officer is working on this {category} report in {neighborhood}. "
                "We will post here when it is resolved.",
                "text_es": "Un agente está trabajando en este reporte de {category} en {neighborhood}. "
                "Publicaremos aquí cuando esté resuelto.",
            },
            {
                "name": "Waiting for another agency",
                "category": None,
                "status": Issue.Status.ON_HOLD,
                "text_en": "We are waiting for another city agency before we can act. The clock is paused meanwhile.",
                "text_es": "Esperamos a otra dependencia de la ciudad antes de actuar. Mientras tanto, el plazo está "
                "en pausa.",
            },
        ]
        if graffiti is not None:
            rows += [
                {
                    "name": "Graffiti: removal requested",
                    "category": graffiti,
                    "status": Issue.Status.ACKNOWLEDGED,
                    "text_en": "We have asked for the graffiti in {neighborhood} to be removed, by {due} at the "
                    "latest.",
                    "text_es": "Pedimos que se quite el grafiti en {neighborhood}, a más tardar el {due}.",
                },
                {
                    "name": "Graffiti: painted over",
                    "category": graffiti,
                    "status": Issue.Status.RESOLVED,
                    "text_en": "The graffiti in {neighborhood} has been painted over. Thank you for helping keep "
                    "the neighborhood clean.",
                    "text_es": "El grafiti en {neighborhood} ya se cubrió con pintura. Gracias por ayudar a mantener "
                    "limpio el vecindario.",
                },
            ]
        existing = set(ResponseTemplate.objects.values_list("name", flat=True))
        ResponseTemplate.objects.bulk_create(ResponseTemplate(**row) for row in rows if row["name"] not in existing)

    def load_partners(self):
        data = demo_file("partners.json")["partners"]
        existing = set(Partner.objects.values_list("name", flat=True))
        created = []
        for row in data:
            if row["name"] in existing:
                continue
            slug = slugify(row["name"])
            created.append(
                (
                    Partner(
                        name=row["name"],
                        kind=row["kind"],
                        description=row["description"],
                        website=f"https://{slug}.example.org/",
                        phone=self.phone(),
                        email=f"info@{slug}.example.org",
                        address=row.get("address", ""),
                        languages=row["languages"],
                        active_since=date.fromisoformat(row["active_since"]),
                    ),
                    row,
                )
            )
        Partner.objects.bulk_create([p for p, _ in created])
        through, contacts = [], []
        for partner, row in created:
            names = row["neighborhoods"]
            hoods = self.hoods if names == "*" else [self.hood_by_name[n] for n in names]
            through += [Partner.neighborhoods.through(partner_id=partner.pk, neighborhood_id=h.pk) for h in hoods]
            slug = slugify(row["name"])
            for index, contact in enumerate(row["contacts"]):
                first = contact["name"].split()[-2] if len(contact["name"].split()) > 2 else contact["name"].split()[0]
                contacts.append(
                    PartnerContact(
                        partner=partner,
                        name=contact["name"],
                        role=contact["role"],
                        email=f"{_ascii(first)}@{slug}.example.org",
                        phone=self.phone(),
                        languages=contact["languages"],
                        is_primary=index == 0,
                    )
                )
        Partner.neighborhoods.through.objects.bulk_create(through)
        PartnerContact.objects.bulk_create(contacts)
        self.partners = list(Partner.objects.prefetch_related("neighborhoods").order_by("name"))
        self.partner_by_name = {p.name: p for p in self.partners}
        self.partners_of_hood = {h.pk: [] for h in self.hoods}
        for partner in self.partners:
            for hood in partner.neighborhoods.all():
                self.partners_of_hood.setdefault(hood.pk, []).append(partner)
        self.step("partners")

    def load_staff(self):
        groups = {g.name: g for g in Group.objects.filter(name__in=[OFFICER, SUPERVISOR, ADMINISTRATOR])}
        password = make_password(settings.DEMO_PASSWORD)  # hashed once: hashing is deliberately slow
        self.users = {}
        for username, first, last, role, hood_names, districts, languages, badge in STAFF:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@commonground.example.org"},
            )
            if not created and not check_password(settings.DEMO_PASSWORD, user.password):
                created = True  # reset below
            if created:
                user.password = password
            if role == ADMINISTRATOR:
                user.is_staff = user.is_superuser = True
            user.is_active = True
            user.save()
            user.groups.add(groups[role])
            profile, _ = StaffProfile.objects.get_or_create(
                user=user,
                defaults={
                    "badge_number": badge
                    if not StaffProfile.objects.filter(badge_number=badge).exclude(badge_number="").exists()
                    else "",
                    "districts": districts,
                    "languages": languages,
                    "phone": self.phone(),
                },
            )
            profile.neighborhoods.add(*[self.hood_by_name[n] for n in hood_names])
            self.users[username] = user
        self.officers_of_hood, self.supervisors_of_district = {}, {}
        for username, _first, _last, role, hood_names, districts, _langs, _badge in STAFF:
            user = self.users[username]
            for hood in self.hoods:
                if role == OFFICER and (hood.name in hood_names or hood.district in districts):
                    self.officers_of_hood.setdefault(hood.pk, []).append(user)
            if role == SUPERVISOR:
                for district in districts:
                    self.supervisors_of_district.setdefault(district, []).append(user)
        self.officers = [self.users[s[0]] for s in STAFF if s[3] == OFFICER]
        self.load_assignment_rules()
        self.step("staff")

    def load_assignment_rules(self):
        """New reports find an officer: each demo officer's neighborhoods go to them, and the
        other neighborhoods' reports to the officers' pool, whoever has the least open work."""
        if AssignmentRule.objects.exists():
            return
        for username, _first, _last, role, hood_names, _districts, _langs, _badge in STAFF:
            for name in hood_names if role == OFFICER else ():
                AssignmentRule.objects.create(
                    name=f"{name}: {username}",
                    neighborhood=self.hood_by_name[name],
                    officer=self.users[username],
                    position=10,
                )
        pool = AssignmentRule.objects.create(
            name="Everywhere else: the officers, least open work first",
            mode=AssignmentRule.Mode.LEAST_OPEN,
            position=100,
        )
        pool.pool.set(self.officers)

    def load_api_clients(self):
        # Written in this same transaction: its presence marks a complete load.
        self.api_client = ApiClient.objects.create(
            name=DEMO_API_CLIENT, key=DEMO_API_KEY, contact_email="civic-apps@commonground.example.org"
        )
        if not ApiClient.objects.filter(name="Old civic app (revoked)").exists():
            ApiClient.objects.create(
                name="Old civic app (revoked)",
                key="".join(self.rng.choice(TRACKING_ALPHABET) for _ in range(40)),
                is_active=False,
                revoked_at=self.ago(30),
            )
        self.step("api clients")

    # --- issues: plan -----------------------------------------------------------

    def officer_for(self, hood):
        return self.rng.choice(self.officers_of_hood.get(hood.pk) or self.officers)

    def supervisors_for(self, hood):
        return self.supervisors_of_district.get(hood.district) or [self.users["supervisor"]]

    def point_in(self, hood):
        for _ in range(200):
            lat = self.rng.uniform(hood.min_lat, hood.max_lat)
            lng = self.rng.uniform(hood.min_lng, hood.max_lng)
            if geo.contains(hood.boundary, lat, lng):
                return round(lat, 6), round(lng, 6)
        return hood.center_lat, hood.center_lng

    def choose_status(self, spec):
        status = self.weighted(
            [
                (S.NEW, 7),
                (S.ACKNOWLEDGED, 7),
                (S.IN_PROGRESS, 14),
                (S.ON_HOLD, 5),
                (S.RESOLVED, 18),
                (S.CLOSED, 33),
                (S.DUPLICATE, 6),
                (S.REFERRED, 10 if spec.referral else 0),
            ]
        )
        return status

    def age_for(self, status, target_hours):
        """Days since the issue was reported.

        Finished issues spread over the 90 days. Open ones are aged relative to
        their SLA target, so that roughly a third of the open, running issues
        are past due (fewer of the new ones, more of those in progress).
        """
        if status in Issue.FINISHED_STATUSES:
            return 1.5 + self.rng.random() * 88
        mu = {S.NEW: -1.3, S.ACKNOWLEDGED: -0.7, S.IN_PROGRESS: -0.3, S.ON_HOLD: 0.2}[status]
        hours = target_hours * self.rng.lognormvariate(mu, 0.9)
        low = 3 if status == S.ON_HOLD else 0.05
        return min(max(hours / 24, low), 60)

    def plan_issues(self):
        self.plans = []
        self.problem_plans = []  # dicts with "spec" or escalation info
        cluster_total = 0
        for spec in demo_file("problems.json")["problems"]:
            key = ("seeded", spec["title"])
            self.problem_plans.append({"key": key, "spec": spec, "plans": []})
            cluster = spec["issues"]
            for _ in range(cluster["count"]):
                age = self.rng.uniform(cluster["newest_days"], cluster["oldest_days"])
                status = self.cluster_status(spec, age)
                plan = self.plan_issue(
                    spec=self.specs[spec["category"]],
                    hood=self.hood_by_name[spec["neighborhood"]],
                    status=status,
                    age_days=age,
                )
                plan.problem_key = key
                self.problem_plans[-1]["plans"].append(plan)
                cluster_total += 1
        hood_weights = [(h, NEIGHBORHOOD_WEIGHT.get(h.name, 5)) for h in self.hoods]
        category_weights = [(s, s.weight) for s in self.category_specs]
        for _ in range(self.issue_count - cluster_total):
            spec = self.weighted(category_weights)
            hood = self.weighted(hood_weights)
            status = self.choose_status(spec)
            self.plan_issue(spec=spec, hood=hood, status=status)
        self.plans.sort(key=lambda p: p.created_at)
        self.plan_duplicates()
        self.plan_hotspots()

    def cluster_status(self, spec, age_days):
        stage = spec["stage"]
        response_days = spec.get("response_days")
        if stage in (Problem.Stage.CLOSED, Problem.Stage.ASSESSMENT) or (response_days and age_days > response_days):
            return self.weighted(
                [(S.CLOSED, 6), (S.RESOLVED, 3), (S.REFERRED, 1 if self.specs[spec["category"]].referral else 0)]
            )
        if stage == Problem.Stage.SCANNING:
            return self.weighted([(S.NEW, 3), (S.ACKNOWLEDGED, 2), (S.IN_PROGRESS, 1)])
        return self.weighted([(S.IN_PROGRESS, 4), (S.ACKNOWLEDGED, 1), (S.ON_HOLD, 1), (S.CLOSED, 2)])

    def plan_issue(self, *, spec, hood, status, age_days=None):
        rng = self.rng
        category = self.categories[spec.code]
        priority = self.weighted([(Priority.LOW, 15), (Priority.NORMAL, 55), (Priority.HIGH, 22), (Priority.URGENT, 8)])
        if spec.code in ("open-air-drug-activity", "drug-house") and priority == Priority.LOW:
            priority = Priority.NORMAL
        target = category.target_hours(priority)
        if age_days is None:
            age_days = self.age_for(status, target)
        created = (
            self.now - timedelta(days=age_days) - timedelta(seconds=rng.randint(0, min(3599, int(age_days * 43200))))
        )
        finished = status in Issue.FINISHED_STATUSES
        if finished:
            # Time to finish: around the SLA target, sometimes well past it.
            span = self.hours(target * rng.lognormvariate(-0.35, 0.65))
            end = min(created + span, self.now - timedelta(minutes=rng.randint(20, 600)))
            if end <= created + timedelta(minutes=30):
                end = created + (self.now - created) * 0.8
        else:
            end = self.now
        plan = IssuePlan(
            fields={},
            category=spec,
            neighborhood=hood,
            created_at=created,
            end_at=end if finished else None,
        )
        # Reports: first opens the issue, "me too" ones join while it is open.
        language_es = 0.38 if "es" in hood.languages else 0.07
        report_count = self.weighted([(1, 65), (2, 25), (3, 10)])
        report_times = sorted(
            [created] + [self.between(created, created + (end - created) * 0.7) for _ in range(report_count - 1)]
        )
        for index, at in enumerate(report_times):
            plan.reports.append(self.plan_report(spec, hood, at, language_es, first=index == 0))
        lat, lng = self.point_in(hood)
        if plan.reports[0]["channel"] == Report.Channel.PHONE and rng.random() < 0.4:
            lat = lng = None  # phoned in with an address only
        address = f"{rng.randint(1, 49) * 100 + rng.randint(0, 99)} {rng.choice(STREETS[hood.name])}"
        plan.fields.update(
            tracking_code=self.tracking_code(),
            category=category,
            neighborhood=hood,
            lat=lat,
            lng=lng,
            address=address,
            # A street address the demo makes up: nothing in it to mask.
            public_address=address,
            description=plan.reports[0]["text"],
            # The public copy, masked as issue_submit masks it (cases.redaction).
            public_description=mask_text(
                plan.reports[0]["text"], names=[r["reporter_name"] for r in plan.reports]
            ).text,
            priority=priority,
            status=status,
            created_at=created,
            report_count=len(plan.reports),
        )
        ev = plan.events
        for index, report in enumerate(plan.reports):
            actor = report.get("created_by")
            if index == 0:
                ev.append(
                    {
                        "at": report["created_at"],
                        "kind": Event.Kind.CREATED,
                        "actor": actor,
                        "is_public": True,
                        "data": {"channel": report["channel"]},
                        "report": index,
                    }
                )
            else:
                ev.append(
                    {
                        "at": report["created_at"],
                        "kind": Event.Kind.REPORT_ADDED,
                        "actor": actor,
                        "is_public": True,
                        "message": "Another resident reported the same problem.",
                        "data": {"channel": report["channel"]},
                        "report": index,
                    }
                )
        assignee = None
        ack_at = assign_at = None
        if status != S.NEW:
            ack_at = created + min((end - created) * rng.uniform(0.02, 0.2), self.hours(rng.uniform(0.2, 30)))
            officer = self.officer_for(hood)
            ev.append({"at": ack_at, "kind": Event.Kind.ACKNOWLEDGED, "actor": officer, "is_public": True})
            plan.fields["acknowledged_at"] = ack_at
            never_assigned = status == S.ACKNOWLEDGED or (status in (S.DUPLICATE, S.REFERRED) and rng.random() < 0.5)
            if not never_assigned:
                assign_at = ack_at + min((end - ack_at) * rng.uniform(0.05, 0.3), self.hours(rng.uniform(0.1, 18)))
                assignee = self.officer_for(hood)
                assigner = rng.choice(self.supervisors_for(hood) + [assignee])
                ev.append(
                    {
                        "at": assign_at,
                        "kind": Event.Kind.ASSIGNED,
                        "actor": assigner,
                        "message": assignee.get_full_name(),
                        "data": {"from": None, "to": assignee.pk},
                    }
                )
                plan.fields["assignee"] = assignee
                if rng.random() < 0.7:
                    approach = self.weighted([("deter", 3), ("problem_solve", 4), ("enforce", 2)])
                    plan.fields["approach"] = approach
                    ev.append(
                        {
                            # Never after the issue's last moment (now, for one still open).
                            "at": min(assign_at + self.hours(rng.uniform(0.1, 6)), end),
                            "kind": Event.Kind.APPROACH,
                            "actor": assignee,
                            "message": str(Approach(approach).label),
                            "data": {"from": "", "to": approach},
                        }
                    )
        working_from = assign_at or ack_at
        # Holds: the SLA clock stops while on hold; a finished issue may have been held and resumed.
        due = created + self.hours(target)
        hold_at = None
        if status == S.ON_HOLD:
            hold_at = self.between(
                working_from + timedelta(minutes=30),
                max(working_from + timedelta(minutes=31), self.now - self.hours(2)),
            )
            reason = rng.choice(HOLD_REASONS)
            plan.fields.update(hold_started_at=hold_at, hold_reason=reason)
            ev.append(
                {
                    "at": hold_at,
                    "kind": Event.Kind.HELD,
                    "actor": assignee,
                    "is_public": True,
                    "message": reason,
                    "data": {"status_before": S.IN_PROGRESS},
                }
            )
        elif finished and working_from and rng.random() < 0.12 and min(due, end) > working_from + self.hours(2):
            held_start = self.between(working_from + self.hours(1), min(due, end) - self.hours(1))
            held_end = self.between(held_start + self.hours(1), end - timedelta(minutes=10))
            if held_end > held_start:
                reason = rng.choice(HOLD_REASONS)
                ev.append(
                    {
                        "at": held_start,
                        "kind": Event.Kind.HELD,
                        "actor": assignee,
                        "is_public": True,
                        "message": reason,
                        "data": {"status_before": S.IN_PROGRESS if assignee else S.ACKNOWLEDGED},
                    }
                )
                due = due + (held_end - held_start)
                ev.append(
                    {
                        "at": held_end,
                        "kind": Event.Kind.RESUMED,
                        "actor": assignee,
                        "is_public": True,
                        "data": {
                            "held_hours": round((held_end - held_start).total_seconds() / 3600, 2),
                            "due_at": due.isoformat(),
                        },
                    }
                )
        plan.fields["due_at"] = due
        # Notes while the issue is worked.
        if working_from:
            note_until = hold_at or end
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                public = rng.random() < 0.35
                ev.append(
                    {
                        "at": self.between(working_from, note_until),
                        "kind": Event.Kind.NOTE,
                        "actor": assignee or self.officer_for(hood),
                        "is_public": public,
                        "message": rng.choice(NOTES_PUBLIC if public else NOTES_INTERNAL),
                    }
                )
            if assignee and any(r["reporter_name"] or r["reporter_phone"] for r in plan.reports) and rng.random() < 0.4:
                # A reveal always says why (the audit log); picked without the generator, so the rest of
                # the demo data stays the same.
                why = list(Event.RevealReason)[len(ev) % 3]
                ev.append(
                    {
                        "at": self.between(working_from, note_until),
                        "kind": Event.Kind.CONTACT_VIEWED,
                        "actor": assignee,
                        "message": str(why.label),
                        "data": {"reason_code": why.value},
                    }
                )
        # Escalations while the clock ran: up to the hold, the finish, or now.
        escalating_until = hold_at or end
        self.plan_escalations(plan, category, due, escalating_until, finished)
        # The finish.
        if finished:
            self.plan_finish(plan, status, end, assignee or self.officer_for(hood))
        self.plans.append(plan)
        self.step("issues")
        return plan

    def plan_report(self, spec, hood, at, language_es, *, first):
        rng = self.rng
        channel = self.weighted(
            [
                (Report.Channel.WEB, 45),
                (Report.Channel.PHONE, 20),
                (Report.Channel.OFFICER, 12 if first else 0),
                (Report.Channel.OPEN311, 10),
                (Report.Channel.PARTNER, 8),
                (Report.Channel.API, 5),
            ]
        )
        spanish = channel != Report.Channel.OFFICER and rng.random() < language_es
        text = rng.choice(spec.texts_es if spanish else spec.texts_en)
        report = {
            "text": text,
            "channel": channel,
            "language": "es" if spanish else "en",
            "is_anonymous": False,
            "reporter_name": "",
            "reporter_email": "",
            "reporter_phone": "",
            "contact_consent": False,
            "attributes": {},
            "created_at": at,
            "open311_token": "",
        }
        if channel == Report.Channel.OFFICER:
            report["created_by"] = self.officer_for(hood)
        elif rng.random() < 0.3:
            report["is_anonymous"] = True
        else:
            first_name = rng.choice(FIRST_ES if spanish else FIRST_EN)
            last_name = rng.choice(LAST_ES if spanish else LAST_EN)
            if rng.random() < 0.8:
                report["reporter_name"] = f"{first_name} {last_name}"
            if rng.random() < 0.6:
                report["reporter_email"] = f"{_ascii(first_name)}.{_ascii(last_name)}{rng.randint(1, 99)}@example.com"
            if rng.random() < 0.5 or not (report["reporter_name"] or report["reporter_email"]):
                report["reporter_phone"] = self.phone()
            report["contact_consent"] = rng.random() < 0.8
        if channel == Report.Channel.OPEN311:
            report["open311_token"] = "".join(rng.choice("0123456789abcdef") for _ in range(24))
        if spec.attributes and channel in (Report.Channel.WEB, Report.Channel.OPEN311, Report.Channel.API):
            answers = {}
            for attribute in spec.attributes:
                if attribute["datatype"] == CategoryAttribute.Datatype.NUMBER:
                    answers[attribute["code"]] = rng.randint(3, 40)
                elif attribute["datatype"] == CategoryAttribute.Datatype.SINGLEVALUELIST:
                    answers[attribute["code"]] = rng.choice(attribute["values"])["key"]
                elif attribute["datatype"] == CategoryAttribute.Datatype.MULTIVALUELIST:
                    keys = [v["key"] for v in attribute["values"]]
                    answers[attribute["code"]] = sorted(rng.sample(keys, rng.randint(1, 2)))
                elif attribute["code"] == "license_plate" and rng.random() < 0.5:
                    letters = rng.choice("ABCDEFGHJK") + rng.choice("LMNPRSTUVW")
                    answers[attribute["code"]] = f"{letters}{rng.randint(1, 9)}-{rng.randint(100, 999)}"
                elif attribute["code"] == "vehicle_description":
                    answers[attribute["code"]] = rng.choice(["grey sedan", "white van", "red pickup", "blue SUV"])
            report["attributes"] = answers
        return report

    def plan_escalations(self, plan, category, due, until, finished):
        """The levels the sweep applied while the clock ran (cycle 0), as cases.escalation writes them.

        A level with ``hours_overdue = H`` fires once ``due_at + H`` has passed
        (and ``due_at`` itself has); the sweep runs every minute, so it lands a
        few seconds after its time. ``raise_priority`` raises one step and
        leaves ``due_at`` alone. ``until``: when the clock stopped (put on hold,
        finished) or now.
        """
        rng = self.rng
        hood = plan.neighborhood
        code = plan.fields["tracking_code"]
        priority = plan.fields["priority"]
        level = 0
        for rule in self.rules.get(category.pk, []):
            threshold = due + self.hours(rule.hours_overdue)
            if threshold >= until:
                break
            fired = min(threshold + timedelta(seconds=rng.randint(5, 110)), until - timedelta(seconds=1))
            level = rule.level
            label = str(A(rule.action).label)
            data = {"level": rule.level, "action": str(rule.action), "cycle": 0, "hours_overdue": rule.hours_overdue}
            message = f"Level {rule.level}: {label} ({rule.hours_overdue} hours overdue)"
            if rule.action == A.RAISE_PRIORITY:
                raised = PRIORITY_ORDER[min(PRIORITY_ORDER.index(Priority(priority)) + 1, len(PRIORITY_ORDER) - 1)]
                data.update(priority_from=str(priority), priority_to=str(raised))
                message += f", priority {priority} → {raised}"
                priority = raised
            else:
                data.update(priority_from=None, priority_to=None)
            escalation = {
                "level": rule.level,
                "rule": rule,
                "action": rule.action,
                "at": fired,
                "hours_overdue": rule.hours_overdue,
            }
            plan.escalations.append(escalation)
            plan.events.append(
                {
                    "at": fired,
                    "kind": Event.Kind.ESCALATED,
                    "message": message,
                    "data": data,
                    "escalation": len(plan.escalations) - 1,
                }
            )
            if rule.action in (A.NOTIFY_SUPERVISOR, A.NOTIFY_COMMANDER):
                for supervisor in self.supervisors_for(hood):
                    read = fired + self.hours(rng.uniform(1, 40)) if rng.random() < 0.7 else None
                    plan.notifications.append(
                        {
                            "user": supervisor,
                            "subject": f"Escalated, level {rule.level}: {code} — {category.name_en} in {hood.name}",
                            "body": f"{label}.\n{code} ({category.name_en}, {hood.name}) is {rule.hours_overdue} "
                            f"hours past its due time; priority now {priority}, escalation level {rule.level}.",
                            "at": fired,
                            "read_at": read if read and read < self.now else None,
                        }
                    )
            elif rule.action == A.OPEN_PROBLEM and plan.problem_key is None:
                plan.problem_key = ("escalation", category.pk, hood.pk)
                plan.problem_joined = (fired, "Opened by escalation")
        plan.fields["priority"] = priority
        plan.fields["escalation_level"] = level
        waiting = [e for e in plan.escalations if e["action"] == A.NEEDS_DECISION]
        if waiting:
            # A supervisor decides (cases.services.problems.escalation_decide): every escalation so far
            # is marked decided. Most finished issues had one; of the open ones, some still wait.
            asked = waiting[0]["at"]
            end = until if finished else self.now
            if (finished and rng.random() < 0.75) or (not finished and rng.random() < 0.4):
                decided_at = min(self.between(asked + self.hours(0.5), max(end, asked + self.hours(1))), self.now)
                decider = rng.choice(self.supervisors_for(hood))
                decision = rng.choice(DECISIONS)
                decided = [e for e in plan.escalations if e["at"] <= decided_at]
                for escalation in decided:
                    escalation.update(decided_at=decided_at, decided_by=decider, decision=decision)
                plan.events.append(
                    {
                        "at": decided_at,
                        "kind": Event.Kind.NOTE,
                        "actor": decider,
                        "message": f"Supervisor's decision: {decision}",
                        "data": {"decision": decision, "escalations_decided": len(decided)},
                    }
                )
            elif not finished:
                plan.fields["needs_decision"] = True
        if finished:
            plan.fields["needs_decision"] = False

    def plan_finish(self, plan, status, end, officer):
        rng = self.rng
        ev = plan.events
        fields = plan.fields
        spec = plan.category
        crime = status == S.CLOSED and rng.random() < spec.crime_share
        fields["resolved_at"] = end
        if status == S.DUPLICATE:
            fields["outcome"] = Issue.Outcome.DUPLICATE
            # The merge target is chosen once every plan exists (plan_duplicates).
        elif status == S.REFERRED:
            fields["outcome"] = Issue.Outcome.REFERRED
            fields["referred_to"] = spec.referral
            fields["resolution_note"] = "Referred with photos and the reporters' description."
            ev.append(
                {
                    "at": end,
                    "kind": Event.Kind.REFERRED,
                    "actor": officer,
                    "is_public": True,
                    "message": f"Referred to {spec.referral}.",
                    "data": {"agency": spec.referral},
                }
            )
        elif crime:
            number = self.crime_number(end)
            note = rng.choice(CRIME_NOTES)
            fields.update(
                outcome=Issue.Outcome.CRIME_REPORT, crime_report_number=number, resolution_note=note, closed_at=end
            )
            ev.append(
                {
                    "at": end,
                    "kind": Event.Kind.CRIME_REPORT,
                    "actor": officer,
                    "message": note,
                    "data": {"report_number": number},
                }
            )
            ev.append(
                {
                    "at": end,
                    "kind": Event.Kind.CLOSED,
                    "actor": officer,
                    "is_public": True,
                    "message": "Closed by the department.",
                }
            )
        else:
            note = rng.choice(RESOLUTIONS)
            fields.update(outcome=Issue.Outcome.RESOLVED, resolution_note=note)
            resolved_at = end
            # A few came back: the resident said "not fixed", it reopened and was fixed again.
            if not plan.escalations and rng.random() < 0.07 and (self.now - end) > timedelta(days=3):
                first = plan.created_at + (end - plan.created_at) * 0.5
                ev.append(
                    {"at": first, "kind": Event.Kind.RESOLVED, "actor": officer, "is_public": True, "message": note}
                )
                said = first + self.hours(rng.uniform(2, 30))
                plan.feedback.append(
                    {
                        "fixed": False,
                        "satisfaction": rng.choice([1, 2]),
                        "comment": "Still there. / Sigue igual.",
                        "at": said,
                    }
                )
                ev.append(
                    {
                        "at": said,
                        "kind": Event.Kind.FEEDBACK,
                        "message": "Still there. / Sigue igual.",
                        "data": {"fixed": False, "satisfaction": plan.feedback[-1]["satisfaction"]},
                    }
                )
                due = said + self.hours(self.categories[spec.code].target_hours(fields["priority"]))
                ev.append(
                    {
                        "at": said,
                        "kind": Event.Kind.REOPENED,
                        "is_public": True,
                        "message": "The resident says it is not fixed.",
                        "data": {"by_resident": True, "due_at": due.isoformat()},
                    }
                )
                fields["due_at"] = due
                fields["reopen_count"] = 1
                # Fixed again before the new due time, so the second climb never started.
                target = self.categories[spec.code].target_hours(fields["priority"])
                resolved_at = said + min(max(end - said, self.hours(2)), self.hours(target - 1))
                fields["resolved_at"] = resolved_at
                note = "Came back and cleared it again; owner now on a monthly check."
                fields["resolution_note"] = note
            ev.append(
                {"at": resolved_at, "kind": Event.Kind.RESOLVED, "actor": officer, "is_public": True, "message": note}
            )
            if status == S.CLOSED:
                closed_at = resolved_at + self.hours(rng.uniform(24, 24 * 7))
                if closed_at >= self.now:
                    closed_at = resolved_at + (self.now - resolved_at) / 2
                fields["closed_at"] = closed_at
                ev.append({"at": closed_at, "kind": Event.Kind.CLOSED, "actor": officer, "is_public": True})
            if rng.random() < 0.35:
                at = resolved_at + self.hours(rng.uniform(1, 72))
                if at < self.now:
                    fixed = rng.random() < 0.85
                    satisfaction = rng.choice([4, 5, 5, 3]) if fixed else rng.choice([1, 2, 2, 3])
                    comment = (
                        rng.choice(
                            [
                                "",
                                "",
                                "Thank you!",
                                "¡Gracias!",
                                "Took a while but it is done.",
                                "Better, but it will come back.",
                            ]
                        )
                        if fixed
                        else "Only half done."
                    )
                    plan.feedback.append({"fixed": fixed, "satisfaction": satisfaction, "comment": comment, "at": at})
                    ev.append(
                        {
                            "at": at,
                            "kind": Event.Kind.FEEDBACK,
                            "message": comment,
                            "data": {"fixed": fixed, "satisfaction": satisfaction},
                        }
                    )
                    # "Not fixed" after the final resolution stays with the supervisor (decided not to reopen).

    def crime_number(self, at):
        while True:
            number = f"KC-{at:%y}-{self.rng.randint(1000, 99999):06d}"
            if number not in self.crime_numbers:
                self.crime_numbers.add(number)
                return number

    def plan_duplicates(self):
        """Merge each duplicate into an earlier issue of its kind that was still open then."""
        by_category = {}
        for plan in self.plans:  # creation order
            fields = plan.fields
            if fields["status"] == S.DUPLICATE:
                merged_at = plan.end_at
                candidates = [
                    other
                    for other in by_category.get(plan.category.code, [])
                    if other.fields["status"] != S.DUPLICATE
                    and (other.end_at is None or other.end_at > merged_at)
                    and other.created_at < merged_at
                ]
                same_place = [o for o in candidates if o.neighborhood == plan.neighborhood]
                target = self.rng.choice(same_place or candidates) if candidates else None
                if target is None:
                    # Nothing to merge into: it was resolved on its own.
                    self.redo_as_resolved(plan)
                else:
                    plan.duplicate_of = target
                    actor = target.fields.get("assignee") or self.officer_for(plan.neighborhood)
                    plan.events.append(
                        {
                            "at": merged_at,
                            "kind": Event.Kind.DUPLICATE,
                            "actor": actor,
                            "is_public": True,
                            "message": f"Merged into {target.fields['tracking_code']}.",
                            "data": {"reports_moved": len(plan.reports)},
                        }
                    )
                    target.events.append(
                        {
                            "at": merged_at,
                            "kind": Event.Kind.REPORT_ADDED,
                            "actor": actor,
                            "is_public": True,
                            "message": f"{len(plan.reports)} report(s) merged from a duplicate.",
                            "data": {"reports_moved": len(plan.reports)},
                            "from_plan": plan,
                        }
                    )
                    target.fields["report_count"] += len(plan.reports)
                    plan.fields["report_count"] = 0
            by_category.setdefault(plan.category.code, []).append(plan)

    def redo_as_resolved(self, plan):
        plan.fields.update(status=S.RESOLVED, outcome=Issue.Outcome.RESOLVED, resolution_note=RESOLUTIONS[0])
        plan.events.append(
            {
                "at": plan.end_at,
                "kind": Event.Kind.RESOLVED,
                "actor": self.officer_for(plan.neighborhood),
                "is_public": True,
                "message": RESOLUTIONS[0],
            }
        )

    def plan_hotspots(self):
        """Group open issues piling up as the sweep's hot-spot rule would have by now.

        ``hotspot_threshold`` or more open issues of one category in one
        neighborhood created within ``hotspot_window_hours`` join the open
        Problem of that category there, or a new one (source hot spot) opened
        when the threshold was reached.
        """
        groups = {}
        for plan in self.plans:
            if plan.fields["status"] in Issue.OPEN_STATUSES:
                groups.setdefault((plan.category.code, plan.neighborhood.pk), []).append(plan)
        for (code, hood_pk), plans in groups.items():
            category = self.categories[code]
            since = self.now - self.hours(category.hotspot_window_hours)
            window = sorted((p for p in plans if p.created_at >= since), key=lambda p: p.created_at)
            if len(window) < category.hotspot_threshold:
                continue
            loose = [p for p in window if p.problem_key is None]
            if not loose:
                continue
            key = next((p.problem_key for p in plans if p.problem_key and p.problem_key[0] == "seeded"), None)
            key = (
                key or next((p.problem_key for p in plans if p.problem_key), None) or ("hotspot", category.pk, hood_pk)
            )
            reached = window[category.hotspot_threshold - 1].created_at
            for plan in loose:
                # The next sweep (every minute) after the threshold was reached, or after it arrived.
                joined = min(max(plan.created_at, reached) + timedelta(seconds=self.rng.randint(5, 60)), self.now)
                count = sum(1 for p in window if p.created_at <= joined)
                plan.problem_key = key
                plan.problem_joined = (
                    joined,
                    f"Hot spot: {count} open issues within {category.hotspot_window_hours} hours",
                )

    # --- issues: write ------------------------------------------------------------

    def write_problems(self):
        """Hand-made SARA projects plus those escalation opened, before the issues that point at them."""
        self.problems = {}
        problem_events = []
        for entry in self.problem_plans:
            spec = entry["spec"]
            created = self.ago(spec["created_days"])
            closed_at = self.ago(spec["closed_days"]) if spec.get("closed_days") else None
            problem = Problem(
                title=spec["title"],
                category=self.categories[spec["category"]],
                neighborhood=self.hood_by_name[spec["neighborhood"]],
                stage=spec["stage"],
                source=spec["source"],
                owner=self.users[spec["owner"]],
                approach=spec["approach"],
                analysis_place=spec.get("place", ""),
                analysis_harmed=spec.get("harmed", ""),
                analysis_causing=spec.get("causing", ""),
                analysis_when=spec.get("when", ""),
                analysis_why=spec.get("why", ""),
                response_plan=spec.get("plan", ""),
                response_started_at=self.ago(spec["response_days"]) if spec.get("response_days") else None,
                outcome=spec.get("outcome", ""),
                outcome_note=spec.get("outcome_note", ""),
                closed_at=closed_at,
            )
            entry["problem"], entry["created_at"] = problem, created
            self.problems[entry["key"]] = problem
        # Problems the sweep opened (escalation ladder, hot spots): one per category and neighborhood.
        by_key = {}
        for plan in self.plans:
            if plan.problem_key and plan.problem_key[0] in ("escalation", "hotspot"):
                by_key.setdefault(plan.problem_key, []).append(plan)
        escalation_keys = []
        for key, plans in by_key.items():
            category, hood = self.categories[plans[0].category.code], plans[0].neighborhood
            seeded = [
                e["problem"]
                for e in self.problem_plans
                if e["problem"].category == category
                and e["problem"].neighborhood == hood
                and e["problem"].stage != Problem.Stage.CLOSED
            ]
            existing = seeded[0] if seeded else None
            if existing is None:
                existing = (
                    Problem.objects.filter(category=category, neighborhood=hood)
                    .exclude(stage=Problem.Stage.CLOSED)
                    .first()
                )
            if existing:
                self.problems[key] = existing
                opened = self.problem_created_at(existing)
                for plan in plans:  # joined it, at the earliest once it existed
                    plan.problem_joined = (max(plan.problem_joined[0], opened), plan.problem_joined[1])
                continue
            fired, reason = min(p.problem_joined for p in plans)
            problem = Problem(
                title=f"{category.name_en} in {hood.name}",
                category=category,
                neighborhood=hood,
                stage=Problem.Stage.SCANNING,
                source=Problem.Source.ESCALATION if key[0] == "escalation" else Problem.Source.HOTSPOT,
                owner=self.rng.choice(self.supervisors_for(hood)),
            )
            problem.opened_reason = reason
            # Older ones moved on: analysed, or closed once every issue in them was finished.
            ends = [p.end_at for p in plans]
            if self.now - fired > timedelta(days=21) and all(ends) and self.now - max(ends) > timedelta(days=7):
                problem.stage = Problem.Stage.CLOSED
                problem.closed_at = min(max(ends) + timedelta(days=self.rng.uniform(1, 5)), self.now)
                problem.outcome = self.rng.choice([Problem.Outcome.HANDLED_BETTER, Problem.Outcome.NO_CHANGE])
                problem.outcome_note = "The issues were resolved; no repeat reports since."
            elif self.now - fired > timedelta(days=14):
                problem.stage = Problem.Stage.ANALYSIS
            self.problems[key] = problem
            escalation_keys.append((key, problem, fired))
        Problem.objects.bulk_create([e["problem"] for e in self.problem_plans] + [p for _, p, _ in escalation_keys])
        # auto_now_add stamped "now"; a demo needs the real history (bulk_update skips auto_now).
        for entry in self.problem_plans:
            entry["problem"].created_at = entry["created_at"]
        for _key, problem, fired in escalation_keys:
            problem.created_at = fired
        Problem.objects.bulk_update(
            [e["problem"] for e in self.problem_plans] + [p for _, p, _ in escalation_keys], ["created_at"]
        )
        through = []
        for entry in self.problem_plans:
            problem, spec, created = entry["problem"], entry["spec"], entry["created_at"]
            owner = problem.owner
            through += [
                Problem.partners.through(problem_id=problem.pk, partner_id=self.partner_by_name[n].pk)
                for n in spec["partners"]
            ]
            problem_events.append(
                ProblemEvent(
                    problem=problem,
                    kind=ProblemEvent.Kind.OPENED,
                    actor=owner,
                    message=f"Opened ({problem.get_source_display().lower()}).",
                    data={"source": problem.source},
                    created_at=created,
                )
            )
            stages = [
                Problem.Stage.SCANNING,
                Problem.Stage.ANALYSIS,
                Problem.Stage.RESPONSE,
                Problem.Stage.ASSESSMENT,
                Problem.Stage.CLOSED,
            ]
            reached = stages.index(Problem.Stage(problem.stage))
            moves = {
                Problem.Stage.ANALYSIS: created + timedelta(days=2),
                Problem.Stage.RESPONSE: problem.response_started_at,
                Problem.Stage.ASSESSMENT: (problem.response_started_at or created) + timedelta(days=21),
                Problem.Stage.CLOSED: problem.closed_at,
            }
            for index in range(1, reached + 1):
                to = stages[index]
                at = min(moves[to] or created + timedelta(days=index), self.now)
                kind = ProblemEvent.Kind.CLOSED if to == Problem.Stage.CLOSED else ProblemEvent.Kind.STAGE
                problem_events.append(
                    ProblemEvent(
                        problem=problem,
                        kind=kind,
                        actor=owner,
                        message=problem.outcome_note if to == Problem.Stage.CLOSED else "",
                        data={"from": stages[index - 1], "to": to},
                        created_at=at,
                    )
                )
        for _key, problem, fired in escalation_keys:
            problem_events.append(
                ProblemEvent(
                    problem=problem,
                    kind=ProblemEvent.Kind.OPENED,
                    message=problem.opened_reason,
                    data={"source": problem.source},
                    created_at=fired,
                )
            )
            if problem.stage != Problem.Stage.SCANNING:
                problem_events.append(
                    ProblemEvent(
                        problem=problem,
                        kind=ProblemEvent.Kind.STAGE,
                        actor=problem.owner,
                        data={"from": Problem.Stage.SCANNING, "to": Problem.Stage.ANALYSIS},
                        created_at=fired + min(timedelta(days=3), ((problem.closed_at or self.now) - fired) / 2),
                    )
                )
            if problem.stage == Problem.Stage.CLOSED:
                problem_events.append(
                    ProblemEvent(
                        problem=problem,
                        kind=ProblemEvent.Kind.CLOSED,
                        actor=problem.owner,
                        message=problem.outcome_note,
                        data={"from": Problem.Stage.ANALYSIS, "to": Problem.Stage.CLOSED},
                        created_at=problem.closed_at,
                    )
                )
        Problem.partners.through.objects.bulk_create(through)
        self.problem_created = {key: p.created_at for key, p in self.problems.items()}
        return problem_events

    def problem_created_at(self, problem):
        for entry in self.problem_plans:
            if entry["problem"] is problem:
                return entry["created_at"]
        return problem.created_at

    def write_issues(self):
        problem_events = self.write_problems()
        for plan in self.plans:
            fields = dict(plan.fields)
            if plan.problem_key:
                fields["problem"] = self.problems[plan.problem_key]
            plan.issue = Issue(**fields)
        first = [p.issue for p in self.plans if p.duplicate_of is None]
        Issue.objects.bulk_create(first, batch_size=500)
        for plan in self.plans:
            if plan.duplicate_of is not None:
                plan.issue.duplicate_of = plan.duplicate_of.issue
        Issue.objects.bulk_create([p.issue for p in self.plans if p.duplicate_of is not None], batch_size=500)
        self.step("issues written")
        # Reports: a duplicate's reports now belong to the issue it was merged into.
        reports = []
        for plan in self.plans:
            owner = plan.duplicate_of.issue if plan.duplicate_of else plan.issue
            plan.report_rows = []
            for spec in plan.reports:
                row = Report(
                    issue=owner,
                    open311_client=self.api_client if spec["channel"] == Report.Channel.OPEN311 else None,
                    public_text=mask_text(spec["text"], names=(spec["reporter_name"],)).text,
                    **spec,
                )
                plan.report_rows.append(row)
                reports.append(row)
        Report.objects.bulk_create(reports, batch_size=500)
        self.step("reports")
        # Escalations first: their ids go into the timeline events, as the sweep writes them.
        escalations = []
        for plan in self.plans:
            plan.escalation_rows = [
                Escalation(
                    issue=plan.issue,
                    level=spec["level"],
                    action=spec["action"],
                    rule=spec["rule"],
                    hours_overdue=spec["hours_overdue"],
                    cycle=0,
                    created_at=spec["at"],
                    decided_at=spec.get("decided_at"),
                    decided_by=spec.get("decided_by"),
                    decision=spec.get("decision", ""),
                )
                for spec in plan.escalations
            ]
            escalations += plan.escalation_rows
        Escalation.objects.bulk_create(escalations, batch_size=500)
        events, feedback, notifications = [], [], []
        for plan in self.plans:
            issue = plan.issue
            for spec in plan.events:
                spec = dict(spec)
                at = spec.pop("at")
                data = dict(spec.pop("data", {}))
                if "report" in spec:
                    data["report_id"] = plan.report_rows[spec.pop("report")].pk
                if "escalation" in spec:
                    data = {"escalation_id": plan.escalation_rows[spec.pop("escalation")].pk, **data}
                if "from_plan" in spec:
                    data["from"] = spec.pop("from_plan").issue.pk
                if spec["kind"] == Event.Kind.DUPLICATE:
                    data["into"] = plan.duplicate_of.issue.pk
                events.append(Event(issue=issue, created_at=at, data=data, **spec))
            if plan.problem_key:
                # Same shapes as cases.services.problems / cases.escalation write.
                problem = self.problems[plan.problem_key]
                data = {"problem": problem.pk, "action": "added", "from": None}
                if plan.problem_joined:
                    joined, reason = plan.problem_joined
                    data["source"] = problem.source
                    message = f"Added to problem “{problem.title}” ({reason.lower()})."
                    actor = None
                else:
                    joined = max(plan.created_at, self.problem_created[plan.problem_key])
                    message = f"Added to problem “{problem.title}”."
                    actor = problem.owner
                plan.events.append({"at": joined})  # counts for updated_at below
                events.append(
                    Event(
                        issue=issue, kind=Event.Kind.PROBLEM, actor=actor, created_at=joined, message=message, data=data
                    )
                )
                problem_events.append(
                    ProblemEvent(
                        problem=problem,
                        kind=ProblemEvent.Kind.ISSUE_ADDED,
                        actor=actor,
                        created_at=joined,
                        message=issue.tracking_code,
                        data={"issues": [issue.pk], **({"source": problem.source} if plan.problem_joined else {})},
                    )
                )
            for spec in plan.feedback:
                feedback.append(
                    Feedback(
                        issue=issue,
                        neighborhood_id=issue.neighborhood_id,
                        category_id=issue.category_id,
                        fixed=spec["fixed"],
                        satisfaction=spec["satisfaction"],
                        comment=spec["comment"],
                        created_at=spec["at"],
                    )
                )
            for spec in plan.notifications:
                notifications.append(
                    Notification(
                        user=spec["user"],
                        subject=spec["subject"][:200],
                        body=spec["body"],
                        url=issue.get_absolute_url(),
                        issue=issue,
                        created_at=spec["at"],
                        read_at=spec["read_at"],
                    )
                )
            assignee = plan.fields.get("assignee")
            if assignee and plan.fields["status"] in Issue.OPEN_STATUSES and (self.now - plan.created_at).days < 10:
                at = next(e["at"] for e in plan.events if e["kind"] == Event.Kind.ASSIGNED)
                notifications.append(
                    Notification(
                        user=assignee,
                        subject=f"Issue {issue.tracking_code} assigned to you",
                        body=issue.description[:300],
                        url=issue.get_absolute_url(),
                        issue=issue,
                        created_at=at,
                        read_at=None if self.rng.random() < 0.5 else min(at + self.hours(3), self.now),
                    )
                )
        Event.objects.bulk_create(events, batch_size=1000)
        Feedback.objects.bulk_create(feedback, batch_size=500)
        Notification.objects.bulk_create(notifications, batch_size=500)
        ProblemEvent.objects.bulk_create(problem_events, batch_size=500)
        # auto_now stamped updated_at with "now"; the last thing that happened is more honest.
        issues = []
        for plan in self.plans:
            plan.issue.updated_at = max(e["at"] for e in plan.events)
            issues.append(plan.issue)
        Issue.objects.bulk_update(issues, ["updated_at"], batch_size=250)
        self.step("timelines")

    # --- outreach --------------------------------------------------------------------

    def write_pulse(self):
        """Four quarters of trust survey answers, this one included: each neighborhood a few to a
        few dozen answers a quarter (some below the ten a figure needs), trust a little higher where
        the neighborhood starts higher and rising slowly, a "number one problem" named by most."""
        pulse_statements_default()
        statements = list(PulseStatement.objects.filter(active=True))
        categories = list(Category.objects.filter(is_active=True, is_public=True))
        quarter = quarter_of(timezone.localdate(self.now))
        quarters = [quarter]
        for _ in range(3):
            quarters.append(quarter_before(quarters[-1]))
        responses, answers = [], []
        for hood in Neighborhood.objects.order_by("pk"):
            base = self.rng.uniform(2.4, 3.8)
            for age, when in enumerate(reversed(quarters)):
                for _ in range(self.rng.choice((4, 8, 12, 16, 20, 28))):
                    mean = base + 0.15 * age
                    values = [min(5, max(1, round(self.rng.gauss(mean, 0.9)))) for _ in statements]
                    response = PulseResponse(
                        id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                        quarter=when,
                        neighborhood=hood,
                        language="es" if self.rng.random() < 0.3 else "en",
                        score=sum((v - 1) * 25 for v in values) / len(values),
                        top_problem=self.rng.choice(categories) if categories and self.rng.random() < 0.7 else None,
                    )
                    responses.append(response)
                    answers += [
                        PulseAnswer(response=response, statement=s, value=v)
                        for s, v in zip(statements, values, strict=True)
                    ]
        PulseResponse.objects.bulk_create(responses, batch_size=1000)
        PulseAnswer.objects.bulk_create(answers, batch_size=2000)
        self.step("trust survey")

    def write_activities(self):
        rng = self.rng
        hood_weights = [(h, NEIGHBORHOOD_WEIGHT.get(h.name, 5)) for h in self.hoods]
        kind_weights = [(row, row[1]) for row in ACTIVITY_KINDS]
        open_by_hood = {}
        for plan in self.plans:
            open_by_hood.setdefault(plan.neighborhood.pk, []).append(plan)
        problem_by_hood = {}
        for entry in self.problem_plans:
            problem_by_hood.setdefault(entry["problem"].neighborhood_id, []).append(entry["problem"])
        activities, officer_links, partner_links, issue_links, events = [], [], [], [], []
        planned = []
        for _ in range(self.activity_count):
            kind, _w, hours_range, duration_range, attendance_range, partner_kinds = self.weighted(kind_weights)
            hood = self.weighted(hood_weights)
            if kind == Activity.Kind.SERVICE and rng.random() < 0.4:
                hood = self.hood_by_name["Westside"]  # the mobile shower days
            day = rng.uniform(0.5, 89)
            if kind in (Activity.Kind.CLEAN_UP, Activity.Kind.CULTURAL):
                day = int(day) + (timezone.localtime(self.now, self.tz).weekday() - 5 - int(day)) % 7  # a Saturday
                day = day - 7 if day > 89 else day
            starts = self.local_at(day, rng.uniform(*hours_range))
            ends = starts + self.hours(round(rng.uniform(*duration_range) * 4) / 4)
            if ends > self.now - self.hours(1):
                starts, ends = starts - timedelta(days=7), ends - timedelta(days=7)
            officers = [self.officer_for(hood)]
            for _extra in range(self.weighted([(0, 5), (1, 3), (2, 1)])):
                other = rng.choice(self.officers)
                if other not in officers:
                    officers.append(other)
            local_partners = [p for p in self.partners_of_hood.get(hood.pk, []) if p.kind in partner_kinds]
            partners = rng.sample(local_partners, min(len(local_partners), rng.randint(1, 3))) if local_partners else []
            template = rng.choice(ACTIVITY_TITLES[kind])
            if "{partner}" in template and not partners:
                template = next((t for t in ACTIVITY_TITLES[kind] if "{partner}" not in t), "Partner meeting")
            title = template.format(partner=partners[0].name if partners else "", nbhd=hood.name)
            languages = ["en"]
            if "es" in hood.languages and (rng.random() < 0.6 or "Spanish" in title or "Día" in title):
                languages.append("es")
            if kind == Activity.Kind.CULTURAL:
                languages += [code for code in hood.languages if code not in languages][:2]
            duration = (ends - starts).total_seconds() / 3600
            activity = Activity(
                kind=kind,
                title=title,
                starts_at=starts,
                ends_at=ends,
                neighborhood=hood,
                place=f"{hood.name}: {rng.choice(PLACES[kind])}",
                attendance=rng.randint(*attendance_range),
                hours=(Decimal(str(duration)) * len(officers)).quantize(Decimal("0.01")),
                languages=languages,
                notes=self.activity_notes(kind, hood),
                follow_up_needed=rng.random() < 0.15,
                created_by=officers[0],
            )
            if activity.follow_up_needed:
                activity.follow_up_note = rng.choice(
                    [
                        "Send the flyer in Spanish and Vietnamese.",
                        "Ask Public Works for a second dumpster.",
                        "Call the pastor about the next date.",
                        "Bring two more volunteers next time.",
                    ]
                )
            problems = [p for p in problem_by_hood.get(hood.pk, []) if p.created_at < starts]
            if (
                problems
                and kind
                in (
                    Activity.Kind.CLEAN_UP,
                    Activity.Kind.SERVICE,
                    Activity.Kind.COMMUNITY_MEETING,
                    Activity.Kind.DOOR_TO_DOOR,
                )
                and rng.random() < 0.5
            ):
                activity.problem = rng.choice(problems)
            wanted = ACTIVITY_ISSUE_CATEGORIES.get(kind, False)
            linked = []
            if wanted is not False:
                candidates = [
                    plan
                    for plan in open_by_hood.get(hood.pk, [])
                    if plan.created_at < starts - self.hours(2)
                    and (plan.end_at is None or plan.end_at > starts - timedelta(days=3))
                    and (wanted is None or plan.category.code in wanted)
                    and plan.duplicate_of is None
                ]
                linked = rng.sample(candidates, min(len(candidates), rng.randint(0, 3)))
            # auto_now_add will stamp "now" on insert; kept here and restored after (fix_activity_times).
            activity._logged_at = min(ends + self.hours(rng.uniform(0.5, 20)), self.now)
            planned.append((activity, officers, partners, linked))
            activities.append(activity)
            self.step("activities")
        Activity.objects.bulk_create(activities)
        for activity, officers, partners, linked in planned:
            officer_links += [Activity.officers.through(activity_id=activity.pk, user_id=o.pk) for o in officers]
            partner_links += [Activity.partners.through(activity_id=activity.pk, partner_id=p.pk) for p in partners]
            for plan in linked:
                issue_links.append(Activity.issues.through(activity_id=activity.pk, issue_id=plan.issue.pk))
                events.append(
                    Event(
                        issue=plan.issue,
                        kind=Event.Kind.OUTREACH,
                        actor=activity.created_by,
                        message=activity.title,
                        data={"activity_id": activity.pk},
                        created_at=activity._logged_at,
                    )
                )
        Activity.officers.through.objects.bulk_create(officer_links)
        Activity.partners.through.objects.bulk_create(partner_links)
        # The links went in without the service: the partners' outreach figures are counted from them here.
        partner_figures_refresh(partner_ids={link.partner_id for link in partner_links})
        Activity.issues.through.objects.bulk_create(issue_links)
        Event.objects.bulk_create(events)
        self.fix_activity_times(planned)
        self.step("outreach")

    def fix_activity_times(self, planned):
        # bulk_update does not run auto_now_add, so the logging time sticks.
        for activity, *_rest in planned:
            activity.created_at = activity._logged_at
        Activity.objects.bulk_update([a for a, *_ in planned], ["created_at"], batch_size=250)

    def activity_notes(self, kind, hood):
        notes = {
            Activity.Kind.SCHOOL_EVENT: "Talked with students about safe routes home; teachers asked us back.",
            Activity.Kind.YOUTH_SPORTS: "Coached and umpired; parents brought up speeding near the fields.",
            Activity.Kind.COMMUNITY_MEETING: f"Reported back on open issues in {hood.name}; residents raised new ones.",
            Activity.Kind.SERVICE: "Showers, water and hygiene kits; partner staff handled intake in Spanish.",
            Activity.Kind.CLEAN_UP: "Volunteers and officers cleared the site; city crew hauled the debris.",
            Activity.Kind.DOOR_TO_DOOR: "Knocked on doors, left bilingual flyers with the tracking-code instructions.",
            Activity.Kind.PARTNER_MEETING: "Agreed next steps and who does what before the next meeting.",
            Activity.Kind.CULTURAL: "Officers staffed a table with interpreters; many first conversations with police.",
            Activity.Kind.OTHER: "Community members met the district's officers.",
        }
        return notes[kind]
