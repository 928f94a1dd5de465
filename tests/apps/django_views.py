"""Views and URLs of the small Django project (`django_site`).

The view runs an ORM query on SQLite and does its work in a `django-view` span (process id as
`app.pid`) with one log line inside it.
"""

from __future__ import annotations

import logging
import os

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from opentelemetry import trace

_log = logging.getLogger("django_site")
_tracer = trace.get_tracer("django_site")


def view(_request: HttpRequest) -> HttpResponse:
    """One ORM query and one log line inside a `django-view` span."""
    pid = str(os.getpid())
    with _tracer.start_as_current_span("django-view") as span:
        span.set_attribute("app.pid", pid)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM django_content_type")
            count = cursor.fetchone()[0]
        _log.warning("django view in %s saw %s content types", pid, count)
    return HttpResponse(pid)


def ready(_request: HttpRequest) -> HttpResponse:
    """Readiness probe."""
    return HttpResponse("ok")


urlpatterns = [path("work", view), path("ready", ready)]
