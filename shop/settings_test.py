"""Fast, isolated settings for the test suite; the database backend still follows MONGODB_URI."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from .settings import *  # noqa: F403
from .settings import DATABASES, USE_MONGODB

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "shop.mail.OutboxEmailBackend"
EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tasks run in the process that queues them, right after the commit; tests/shop/test_queue.py runs them on Redis.
QUEUE_URL = "immediate"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
STRIPE_SECRET_KEY = ""
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
STRIPE_MAX_NETWORK_RETRIES = 0
PAYMENTS_DEMO_GATEWAY = True

if USE_MONGODB:
    DATABASES["default"]["NAME"] = os.environ.get("MONGODB_NAME", "shop")
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("MONGODB_TEST_NAME", "test_shop")}
WHITENOISE_AUTOREFRESH = True
