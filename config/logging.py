"""Log filters: what a request log line may not carry.

Query strings hold what people type into searches and filters — a resident's name or
phone number in a staff search (``/issues/?q=…``) — and a log is no place for contact
details. The development server's request lines (logger ``django.server``) keep the
method, path and status; the query string is dropped. gunicorn's access log gets the
same treatment from its ``--access-logformat`` in docker-compose.yml and the Dockerfile.
"""

import logging
import re

_QUERY = re.compile(r"\?[^\s\"]*")


class StripQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server" and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(_QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in args)
        if record.name == "django.server" and isinstance(record.msg, str) and "?" in record.msg:
            record.msg = _QUERY.sub("", record.msg)
        return True
