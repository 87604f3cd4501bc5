"""On sign-in, the staff pages take the language of the person's profile (``core.language``)."""

from core.language import SESSION_KEY
from partners.models import StaffProfile


def staff_language_on_login(sender, request, user, **kwargs):
    language = StaffProfile.objects.filter(user=user).values_list("language", flat=True).first()
    if language and request is not None and getattr(request, "session", None) is not None:
        request.session[SESSION_KEY] = language
