"""Per-category notices on the resident form, set in the admin in both languages: shown with the
category before the report is written; a notice that stops the category refuses its reports on
every channel (the form, the REST API, Open311) with the notice, and writes nothing."""

import re

import pytest
from django.db import IntegrityError
from django.test import Client

from cases import services
from cases.models import Category, Issue
from tests.cases.web.public.public_helpers import CENTER_LAT, CENTER_LNG, center_neighborhood
from tests.factories import ApiClientFactory, CategoryFactory

pytestmark = pytest.mark.django_db

EMERGENCY_EN = "A crime happening now, a fire or someone hurt: call 911 now."
EMERGENCY_ES = "Un delito en curso, un incendio o alguien herido: llame ya al 911."


@pytest.fixture
def emergency():
    return CategoryFactory(
        name_en="Emergency in progress",
        name_es="Emergencia en curso",
        notice_en=EMERGENCY_EN,
        notice_es=EMERGENCY_ES,
        notice_stops=True,
    )


@pytest.fixture
def pothole():
    return CategoryFactory(
        name_en="Pothole",
        name_es="Bache",
        notice_en="The city's 311 fixes potholes; we pass it on.",
        notice_es="El 311 de la ciudad arregla los baches; se lo pasamos.",
        notice_url="https://311.example.org/",
    )


def test_the_form_shows_each_notice_with_its_category_in_both_languages(emergency, pothole):
    english = Client().get("/report/").content.decode()
    assert EMERGENCY_EN in english and "Not reported here:" in english
    assert f'id="category-{emergency.pk}-notice"' in english
    described = re.search(rf'id="category-{emergency.pk}"[^>]*aria-describedby="([^"]*)"', english).group(1)
    assert f"category-{emergency.pk}-notice" in described.split()
    assert 'href="https://311.example.org/"' in english and "The city&#x27;s 311 fixes potholes" in english
    spanish = Client().get("/es/report/").content.decode()
    assert EMERGENCY_ES in spanish and "El 311 de la ciudad arregla los baches" in spanish


def test_a_stopping_notice_refuses_the_report_on_every_channel_and_writes_nothing(emergency, pothole):
    place = center_neighborhood()
    answer = Client().post(
        "/es/report/",
        {"category": emergency.pk, "neighborhood": place.pk, "description": "Hay una pelea en la calle ahora"},
    )
    assert answer.status_code == 200 and f"No se informa aquí. {EMERGENCY_ES}" in answer.content.decode()
    with pytest.raises(Exception, match="911"):
        services.issue_submit(category=emergency, text="A fight on the corner right now", neighborhood=place)
    open311 = Client().post(
        "/open311/v2/requests.json",
        {
            "api_key": ApiClientFactory().key,
            "service_code": emergency.service_code,
            "description": "A fight on the corner",
            "lat": CENTER_LAT,
            "long": CENTER_LNG,
        },
    )
    assert open311.status_code == 400 and "911" in open311.content.decode()
    assert not Issue.objects.exists()
    # A notice that does not stop: the report is taken.
    services.issue_submit(category=pothole, text="A deep pothole on Main Street", neighborhood=place)
    assert Issue.objects.count() == 1


def test_a_category_that_stops_says_where_to_go_instead():
    with pytest.raises(IntegrityError):
        Category.objects.create(
            name_en="Closed", name_es="Cerrada", service_code="closed", group_en="Other", notice_stops=True
        )
