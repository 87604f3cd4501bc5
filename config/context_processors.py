from django.conf import settings


def site(request):
    """Values every template may use: map settings and the user's roles."""
    user = getattr(request, "user", None)
    roles = set()
    if user is not None and user.is_authenticated:
        from accounts.roles import roles_of

        roles = roles_of(user)
    return {
        "MAP_TILE_URL": settings.MAP_TILE_URL,
        "MAP_TILE_ATTRIBUTION": settings.MAP_TILE_ATTRIBUTION,
        "MAP_CENTER": settings.MAP_CENTER,
        "user_roles": roles,
        "is_officer": "Officer" in roles or "Supervisor" in roles,
        "is_supervisor": "Supervisor" in roles or (user is not None and user.is_authenticated and user.is_superuser),
    }
