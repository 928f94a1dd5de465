"""Settings of the small Django project for the Django tests (`DJANGO_SETTINGS_MODULE=django_site`).

Views and URLs are in `django_views`; `django_manage` is its `manage.py`, `django_wsgi` its WSGI
entry point.
"""

from __future__ import annotations

import os
from pathlib import Path

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "django_views"
INSTALLED_APPS = ["django.contrib.contenttypes"]
MIDDLEWARE: list[str] = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(Path(os.environ.get("DJANGO_DB_DIR", ".")) / "django.sqlite3"),
    }
}
USE_TZ = True
LOGGING_CONFIG = None  # the app keeps Python's logging as it is
