"""MongoDB settings with the engine swapped for Django's dummy one: makemigrations for the ObjectId
tree without a running server (the real engine would connect, and wait 30 s on a closed port)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("MONGODB_URI", "mongodb://127.0.0.1:1/")

from shop.settings import *  # noqa: F403
from shop.settings import DATABASES

DATABASES["default"] = {"ENGINE": "django.db.backends.dummy"}
