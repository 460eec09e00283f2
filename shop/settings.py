"""Settings for the shop, read from the environment (see .env.example).

Development needs no variables: the Makefile sets DJANGO_DEBUG=1. With DJANGO_DEBUG off (the default),
DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS are required and startup fails without them.
"""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from shop.environment import StrictEnv

BASE_DIR = Path(__file__).resolve().parent.parent

env = StrictEnv()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"), parse_comments=True)  # .env.example's comments follow the values

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-development-only-key-never-use-in-production-0123")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if not SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Databases: an embedded SQLite file unless MONGODB_URI is set.
MONGODB_URI = env("MONGODB_URI", default="")
USE_MONGODB = bool(MONGODB_URI)

# Apps with models whose migrations differ per backend (ints vs ObjectIds).
MIGRATED_APPS = [
    "admin",
    "auth",
    "contenttypes",
    "account",
    "mfa",
    "shop",
    "audit",
    "accounts",
    "catalog",
    "pricing",
    "cart",
    "orders",
    "payments",
]

if USE_MONGODB:
    DATABASES = {
        "default": {
            "ENGINE": "django_mongodb_backend",
            "HOST": MONGODB_URI,
            "NAME": env("MONGODB_NAME", default="shop"),
        }
    }
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
    ALLAUTH_DEFAULT_AUTO_FIELD = DEFAULT_AUTO_FIELD
    MIGRATION_MODULES = {app: f"mongo_migrations.{app}" for app in MIGRATED_APPS}
    CONTRIB_APPS = [
        "shop.admin_site.ShopMongoAdminConfig",
        "shop.mongo_apps.MongoAuthConfig",
        "shop.mongo_apps.MongoContentTypesConfig",
        "django_mongodb_backend",
    ]
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            # WAL lets readers proceed during a write; IMMEDIATE takes the write lock at BEGIN so that two
            # gunicorn workers wait on the busy timeout instead of failing with "database is locked".
            # synchronous=NORMAL is SQLite's advice for WAL: no fsync per commit, still never corrupt. Reads go
            # through a memory map (mmap_size, 128 MiB) instead of system calls: a worker's page cache is dropped
            # whenever another worker commits, so while the shop sells every read would start cold (item pages kept
            # 0.67 -> 0.74 of their throughput at 20 orders/s, bench/storefront.py). journal_size_limit keeps the WAL
            # file from staying large after a burst of writes.
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA mmap_size=134217728; PRAGMA journal_size_limit=27103364;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Reuse each worker's connection instead of opening the file on every request.
            "CONN_MAX_AGE": env.int("DJANGO_CONN_MAX_AGE", default=60, minimum=0),
        }
    }
    DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
    CONTRIB_APPS = ["shop.admin_site.ShopAdminConfig", "django.contrib.auth", "django.contrib.contenttypes"]

INSTALLED_APPS = [
    *CONTRIB_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "shop",
    "audit",
    "accounts",
    "catalog",
    "pricing",
    "cart",
    "orders",
    "payments",
]

MIDDLEWARE = [
    "shop.middleware.PrivacyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "shop.middleware.CsrfFieldMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.csp.CSPMiddleware",  # django-csp's, building the one policy once (shop/csp.py)
    # Everything above finishes its responses too (CSRF field and cookie, security headers); everything below is
    # skipped when it serves an anonymous visitor a cached catalog page.
    "catalog.page_cache.AnonymousPageMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Staff and sellers without a second factor are sent to set one up (with SHOP_REQUIRE_2FA).
    "accounts.middleware.TwoFactorRequiredMiddleware",
    # Names the request as the source of the writes it causes; the user is read only when a write is recorded.
    "audit.middleware.AuditContextMiddleware",
]

# What the audit trail records (audit.receivers): saves and deletions of these models by staff, sellers and
# management commands. Services writing them with QuerySet.update() record their changes themselves.
AUDIT_MODELS = [
    "accounts.User",
    "account.EmailAddress",
    "mfa.Authenticator",  # a second factor added or removed (its secret masked: audit.services.MASKED_FIELDS)
    "auth.Group",
    "catalog.Category",
    "catalog.Item",
    "pricing.TaxRate",
    "pricing.ShippingZone",
    "pricing.ShippingMethod",
    "pricing.WeightTier",
    "pricing.DiscountCode",
    "pricing.DiscountRedemption",
    "orders.Order",
    "orders.Refund",
    "payments.Payment",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.shop",
                "cart.context_processors.cart",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's, reading the signed-in user through `accounts.selectors.signed_in_user` (no query per request).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "catalog:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "catalog:home"

# django-allauth: the email is the login; rate limits stay at allauth's defaults (on).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
# Stored confirmation keys: the HMAC variant signs the primary key as JSON, which fails for ObjectIds.
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False
# Changing the email adds the new address unconfirmed; confirming it makes it the email and removes the old one
# (so it no longer logs in or receives resets). Signup and email changes never say an address is taken: its owner
# is mailed instead (accounts.forms.SignupForm / ChangeEmailForm, accounts.services.sign_up for the API).
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "add_email": "accounts.forms.ChangeEmailForm"}

# How many proxies of ours stand in front of the app server, each appending to X-Forwarded-For (0: none, the
# default, and X-Forwarded-For is ignored). Every rate limit keys on the client address this yields: allauth's
# and the API's throttles alike; with 0 it is the connection's own address (REMOTE_ADDR).
TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXIES
# One lock per account for every login (web, admin, API): after LOGIN_FAILURE_LIMIT wrong passwords within
# LOGIN_FAILURE_WINDOW_SECONDS, that account refuses every login attempt from any address until the oldest failure
# is that old. allauth counts the failures (its `login_failed` rate limit, keyed on the email; 10 a minute per
# address stays as well), and the API's login goes through the same counter (accounts.security).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=300, minimum=1)
ACCOUNT_RATE_LIMITS = {"login_failed": f"10/m/ip,{LOGIN_FAILURE_LIMIT}/{LOGIN_FAILURE_WINDOW_SECONDS}s/key"}

# Two factors (allauth.mfa): an authenticator app (TOTP) with recovery codes; anyone may turn it on under
# /accounts/2fa/. WebAuthn (security keys, passkeys) stays off: it needs a browser ceremony over HTTPS that nothing
# here exercises. With SHOP_REQUIRE_2FA (on in production), staff and sellers must have TOTP before they reach the
# admin or any other page, and the API gives them no token.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
SHOP_REQUIRE_2FA = env.bool("SHOP_REQUIRE_2FA", default=not DEBUG)

LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en-us")
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def _bootstrap_dir() -> Path:
    import xstatic.pkg.bootstrap

    return Path(xstatic.pkg.bootstrap.BASE_DIR)


# Bootstrap comes from the xstatic package, never a CDN: the shop works offline.
STATICFILES_DIRS.append(("bootstrap", _bootstrap_dir()))

# Names the deployed code in cache keys (set it to the commit id); empty: a digest of the code's contents.
RELEASE = env.str("RELEASE", default="")

CACHE_URL = env.str("CACHE_URL", default="").strip()
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r} is no Redis URL (redis://host:port/db, rediss://, unix://).")
if CACHE_URL:
    # A Redis that stops answering must cost a request half a second, not a hang (then the cache counts as a miss).
    CACHES = {
        "default": {
            "BACKEND": "shop.cache.FailSafeRedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # One cache on this host's disk (diskcache: SQLite underneath), shared by every gunicorn worker and every
    # manage.py command: a page rendered by one worker serves them all, and a catalog change made anywhere on the
    # host is seen by all of them on their next request. Values stay inside its database (no file per entry).
    CACHES = {
        "default": {
            "BACKEND": "shop.cache.HostDiskCache",
            "LOCATION": str(env.path("DJANGO_CACHE_DIR", default=BASE_DIR / "var" / "cache")),
            "OPTIONS": {
                "size_limit": env.int("DJANGO_CACHE_SIZE_MB", default=512, minimum=1) * 2**20,
                "disk_min_file_size": 2**20,
            },
        }
    }

# Whether every process that can change the shop's data (every app server, every manage.py command) uses this one
# cache: Redis, or the disk cache of a single SQLite host. Then the catalog's and each cart's version tokens live in
# the cache and cached pages are checked against them with no database read. On MongoDB without CACHE_URL there may
# be several app servers with a disk cache each, so versions are read from the database instead.
CACHE_IS_SHARED = env.bool("CACHE_IS_SHARED", default=bool(CACHE_URL) or not USE_MONGODB)

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Django's JSON, plus ObjectIds as strings (allauth.mfa keeps an authenticator's primary key in the session).
SESSION_SERIALIZER = "accounts.sessions.JSONSerializer"

# Every email goes through the outbox (shop/mail.py): recorded with the change that sends it, delivered by the worker
# through EMAIL_DELIVERY_BACKEND (SMTP from EMAIL_URL, else the console), retried while the server is down.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
    EMAIL_DELIVERY_BACKEND = EMAIL_BACKEND  # noqa: F821 (set by the line above)
else:
    EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_BACKEND = "shop.mail.OutboxEmailBackend"
# A mail server that accepts the connection and never answers must not hold the worker for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10, minimum=1)

# The task queue that carries the outbox and the periodic jobs (shop/queue.py): a SQLite file on this host by default
# (`make run` starts the worker beside gunicorn), `redis://...` for workers on several machines.
QUEUE_URL = env.str("QUEUE_URL", default="").strip()  # checked by shop.queue.build_huey
# After this many failed tries a message is marked failed for staff: the pauses grow from 10 s to an hour, so 30
# tries span about 13 to 26 hours (a day's outage of Stripe or the mail server loses nothing).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=30, minimum=1)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="Shop <shop@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The shop's one currency; every amount is an integer in its minor units.
SHOP_CURRENCY = env.str("SHOP_CURRENCY", default="EUR")
SHOP_NAME = env.str("SHOP_NAME", default="Django Shop")
# The name authenticator apps show beside the shop's six-digit codes.
MFA_TOTP_ISSUER = SHOP_NAME
# Where shoppers reach the shop: links in emails (a guest's order page) start with it.
SHOP_URL = env.str("SHOP_URL", default="http://127.0.0.1:8000")
# Where the shop is: its VAT applies while a shopper's destination is not known yet.
SHOP_COUNTRY = env.str("SHOP_COUNTRY", default="DE")
# EU style (the default): shelf prices include VAT and the shopper pays them; off: VAT is added at checkout (US).
SHOP_PRICES_INCLUDE_TAX = env.bool("SHOP_PRICES_INCLUDE_TAX", default=True)
# Visitors may buy with an email address and no account; off: checkout asks them to sign up or log in.
SHOP_GUEST_CHECKOUT = env.bool("SHOP_GUEST_CHECKOUT", default=True)
# Item image uploads (`shop.validators`): at most this many bytes and this many pixels (width x height).
SHOP_MAX_IMAGE_BYTES = env.int("SHOP_MAX_IMAGE_BYTES", default=5 * 1024 * 1024, minimum=1)
SHOP_MAX_IMAGE_PIXELS = env.int("SHOP_MAX_IMAGE_PIXELS", default=25_000_000, minimum=1)
# Shipping is taxed at this class of the destination's rates.
SHOP_SHIPPING_TAX_CLASS = env.str("SHOP_SHIPPING_TAX_CLASS", default="standard")
# Where orders may be shipped (ISO 3166-1 alpha-2): the EU, the EEA, Switzerland, the UK and North America.
SHOP_SHIPPING_COUNTRIES = env.list(
    "SHOP_SHIPPING_COUNTRIES",
    default=[
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
        "CH",
        "GB",
        "US",
        "CA",
    ],
)

# Security. In production (DEBUG off) `manage.py check --deploy` is silent with these.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", False) else None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer's or orchestrator's probe talks plain HTTP to gunicorn, and counts a redirect as healthy.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "form-action": ["'self'", "https://checkout.stripe.com"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],  # no <base> tag may redirect the page's relative links
        "object-src": ["'none'"],
    }
}
# Browser features no page of the shop uses (shop.middleware.PrivacyHeadersMiddleware sends it with every answer).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)

# The JSON API: JWT for clients, the browser session too; one exception handler (shop/api.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["shop.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 24,
    # Throttles key on the client address behind our own proxies only (None would trust any X-Forwarded-For).
    "NUM_PROXIES": TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("API_AUTH_THROTTLE_RATE", default="20/min"),
        "token": env.str("API_TOKEN_THROTTLE_RATE", default="120/min"),
    },
}
# Refresh tokens are spent on use (a new one comes with each access token) and blacklisted at logout; a password
# change or deactivation refuses every token issued before it (accounts.tokens: the password claim below).
SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "ROTATE_REFRESH_TOKENS": True,
    "CHECK_REVOKE_TOKEN": True,
}
# The API's schema and docs (/api/schema/, /api/docs/) for anyone, or only for staff (the default in production).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)
# Where the admin lives: somewhere else than /admin/ takes it out of every scanner's first guess.
ADMIN_PATH = env.str("DJANGO_ADMIN_PATH", default="admin/").strip("/") + "/"
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["shop.api.CanReadApiDocs"],
    "TITLE": "Shop API",
    "DESCRIPTION": "The JSON REST API of the MERN backend the shop descends from.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "shop.api.document_busy_writes"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# Payments: Stripe when a secret key is set, else the demo gateway.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2, minimum=0)
# The demo gateway marks orders paid with no money moving: on in development, opt-in in production.
PAYMENTS_DEMO_GATEWAY = env.bool("PAYMENTS_DEMO_GATEWAY", default=DEBUG)
# A hanging Stripe must not hold a gunicorn worker for long.
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=20, minimum=1)
# Unpaid orders expire (stock released) after this; demo payment links expire with it.
ORDER_PAYMENT_WINDOW_MINUTES = env.int("ORDER_PAYMENT_WINDOW_MINUTES", default=60, minimum=1)
