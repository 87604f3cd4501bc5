import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# The URL map and every view module it imports, loaded now rather than by the first request;
# then everything loaded so far (modules, classes, functions: some 120 000 objects) is moved out
# of the cyclic garbage collector's sight (gc.freeze). It never frees any of them, yet a full
# collection walked them all: 50-95 ms, every hundred-odd requests of the API's larger lists,
# with the worker's queue waiting behind it.
get_resolver().url_patterns  # noqa: B018 (loads the URL map)
gc.freeze()
