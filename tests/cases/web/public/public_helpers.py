"""Helpers shared by the public form / status page tests."""

import io

from PIL import Image

from tests.factories import CategoryFactory, NeighborhoodFactory, square

# The map centre (settings.MAP_CENTER) lies inside this square.
CENTER_LAT, CENTER_LNG = 39.0997, -94.5786
OUTSIDE_LAT, OUTSIDE_LNG = 10.0, 10.0


def center_neighborhood(**kwargs):
    return NeighborhoodFactory(
        name=kwargs.pop("name", "Westside"),
        slug=kwargs.pop("slug", "westside"),
        boundary=square(CENTER_LAT - 0.01, CENTER_LNG - 0.01, 0.02),
        **kwargs,
    )


def graffiti(**kwargs):
    defaults = {
        "name_en": "Graffiti",
        "name_es": "Grafiti",
        "hint_en": "Paint or tags on walls",
        "hint_es": "Pintura o marcas en paredes",
        "service_code": "graffiti",
        "group_en": "Property",
        "group_es": "Propiedad",
    }
    defaults.update(kwargs)
    return CategoryFactory(**defaults)


def jpeg_bytes(size=(64, 48), *, gps=True, color=(200, 30, 30)):
    """A JPEG carrying EXIF with a GPS position, a camera serial number and an author."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x013B] = "Jane Resident"  # Artist
    exif[0xA431] = "SERIAL-12345"  # BodySerialNumber
    if gps:
        exif[0x8825] = {  # GPSInfo IFD
            1: "N",
            2: (39.0, 5.0, 59.0),
            3: "W",
            4: (94.0, 34.0, 43.0),
        }
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def form_data(category_obj, /, **overrides):
    data = {
        "category": str(category_obj.pk),
        "description": "Fresh tags sprayed on the laundromat wall on 12th St.",
        "lat": str(CENTER_LAT),
        "lng": str(CENTER_LNG),
        "address": "",
        "neighborhood": "",
        "reporter_name": "",
        "reporter_email": "",
        "reporter_phone": "",
        "same_issue": "",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
