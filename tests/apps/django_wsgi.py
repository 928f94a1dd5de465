"""WSGI entry point of the small Django project `django_site` (for gunicorn)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site")

if os.environ.get("APP_CALLS_SETUP"):
    # Telemetry set up in code, where the Django instrumentation asks for it: before the WSGI
    # application is built (in each worker: this module is imported after the fork).
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    from flext_observability import setup

    setup()
    DjangoInstrumentor().instrument()
    SQLite3Instrumentor().instrument()

application = get_wsgi_application()
