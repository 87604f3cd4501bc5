"""factory_boy factories shared by the whole suite."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from cases.models import ApiClient, Category, EscalationRule, Event, Issue, Problem, Report
from cases.redaction import mask_text
from outreach.models import Activity
from partners.models import Neighborhood, Partner, StaffProfile

User = get_user_model()


def square(lat, lng, size=0.01):
    """A GeoJSON Polygon: a square with its south-west corner at (lat, lng)."""
    return {
        "type": "Polygon",
        "coordinates": [[[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]],
    }


class NeighborhoodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Neighborhood

    class Params:
        origin = factory.Sequence(lambda n: (39.0 + (n % 50) * 0.02, -94.7 + (n // 50) * 0.02))

    name = factory.Sequence(lambda n: f"Neighborhood {n}")
    slug = factory.Sequence(lambda n: f"neighborhood-{n}")
    beat = factory.Sequence(lambda n: f"B-{100 + n}")
    district = "Central"
    languages = ["en", "es"]
    boundary = factory.LazyAttribute(lambda o: square(*o.origin))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from partners.services import neighborhood_refresh_geometry

        obj = model_class(*args, **kwargs)
        neighborhood_refresh_geometry(neighborhood=obj)
        obj.save()
        return obj


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("service_code",)

    name_en = factory.Sequence(lambda n: f"Graffiti {n}")
    name_es = factory.Sequence(lambda n: f"Grafiti {n}")
    hint_en = "Paint or tags on walls"
    hint_es = "Pintura o marcas en paredes"
    service_code = factory.Sequence(lambda n: f"graffiti-{n}")
    group_en = "Property"
    group_es = "Propiedad"
    target_hours_urgent = 4
    target_hours_high = 24
    target_hours_normal = 72
    target_hours_low = 168


class EscalationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EscalationRule

    category = factory.SubFactory(CategoryFactory)
    level = 1
    hours_overdue = 0
    action = EscalationRule.Action.RAISE_PRIORITY


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    kind = Partner.Kind.NONPROFIT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("pw-Secret-123")


def role_group(name):
    """The role's group; recreated if a transactional test flushed the migration's rows."""
    group = Group.objects.filter(name=name).first()
    if group is None:
        from accounts.roles import roles_sync

        roles_sync()
        group = Group.objects.get(name=name)
    return group


def _staff(role, *, neighborhoods=(), districts=(), **kwargs):
    user = UserFactory(**kwargs)
    user.groups.add(role_group(role))
    profile = StaffProfile.objects.create(user=user, districts=list(districts))
    profile.neighborhoods.set(neighborhoods)
    return user


def officer(**kwargs):
    return _staff("Officer", **kwargs)


def supervisor(**kwargs):
    return _staff("Supervisor", **kwargs)


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    category = factory.SubFactory(CategoryFactory)
    neighborhood = factory.SubFactory(NeighborhoodFactory)
    lat = factory.LazyAttribute(lambda o: (o.neighborhood.min_lat + o.neighborhood.max_lat) / 2)
    lng = factory.LazyAttribute(lambda o: (o.neighborhood.min_lng + o.neighborhood.max_lng) / 2)
    description = "Tags sprayed across the laundromat wall"
    # As issue_submit writes it: the public copy, masked.
    public_description = factory.LazyAttribute(lambda o: mask_text(o.description).text)
    address = ""
    public_address = factory.LazyAttribute(lambda o: mask_text(o.address).text)
    created_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.created_at + timedelta(hours=o.category.target_hours(o.priority)))
    priority = "normal"
    report_count = 1


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    issue = factory.SubFactory(IssueFactory)
    text = factory.LazyAttribute(lambda o: o.issue.description)
    reporter_name = ""
    public_text = factory.LazyAttribute(lambda o: mask_text(o.text, names=(o.reporter_name,)).text)
    created_at = factory.LazyAttribute(lambda o: o.issue.created_at)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    issue = factory.SubFactory(IssueFactory)
    kind = Event.Kind.NOTE
    created_at = factory.LazyFunction(timezone.now)


class ProblemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Problem

    title = factory.Sequence(lambda n: f"Problem {n}")


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    kind = Activity.Kind.COMMUNITY_MEETING
    title = factory.Sequence(lambda n: f"Activity {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    neighborhood = factory.SubFactory(NeighborhoodFactory)
    attendance = 20
    hours = 2


class ApiClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiClient

    name = factory.Sequence(lambda n: f"311 app {n}")
