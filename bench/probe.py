"""Replays the outside probe of issue 14 over real HTTP: every finding's attack must get the safe answer.

    .venv/bin/python bench/probe.py

Serves a scratch shop with gunicorn under production settings (harness.py: DJANGO_DEBUG=0, 2 workers, the
background worker beside it, its mails printed to the server log), with the production default SHOP_REQUIRE_2FA on
and Stripe configured against the fake Stripe server of the tests (tests/fake_stripe.py, real HTTP on 127.0.0.1),
so that the payment provider can be made to refuse the key. The seed is `load_demo` (20 items, no past orders) plus
a few probe accounts; staff and the seller get an authenticator (TOTP) whose codes the probe computes.

Then sends each finding's requests with the standard library's http.client (no redirects followed, cookies kept by
hand: the site's cookies are Secure and the probe speaks plain HTTP) and prints one line per check:

    OK      | 1     | POST /api/auth/login x20 (probe-victim@example.com, wrong password) | expected: 401 x5,
    then 429 (never 200) | got: 401 login_refused x5, 429 login_locked x15

(one line each): OK/FAIL, the finding, what was sent, the answer expected, the answer got; "2FA" lines check the
second factor the issue asks for, "also" its "Also seen", "all" the server log (no traceback, no 500). Rate limits
count per client address, so the brute-force findings (1, 2) and the unauthenticated floods are sent from other
loopback addresses (127.0.0.2 ...), leaving 127.0.0.1's budget to the rest. Finding 8 (uploads through the admin)
is not replayed: it needs a multipart admin form under a 2FA session; its COVERED line names the tests that cover
it. Finding 11 is a command, run through `manage.py import_items` on crafted files. Exits 1 if any check fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import secrets
import struct
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from email import message_from_string
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from harness import PYTHON, ROOT, Site, scratch_site

from tests.fake_stripe import FakeStripe

PASSWORD = "Probe-pass-7Kq2"
NEW_PASSWORD = "Probe-pass-9Zx4"
STRIPE_KEY = "sk_test_probe00000000000001234"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOCKED_TEXT = "Too many failed login attempts"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

SEED = """
import json
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from accounts.services import create_user
from catalog.models import Item
from catalog.services import set_stock
from accounts.models import User

password = {password!r}
made = {{}}
for key, email in {{"jwt": "probe-jwt@example.com", "email": "probe-email@example.com",
                   "victim": "probe-victim@example.com", "staff": "probe-staff@example.com"}}.items():
    made[key] = create_user(email=email, password=password)
    EmailAddress.objects.create(user=made[key], email=email, primary=True, verified=True)
staff = made["staff"]
staff.is_staff = staff.is_superuser = True
staff.save()
TOTP.activate(staff, {staff_secret!r})
seller = User.objects.get(email="seller@example.com")
TOTP.activate(seller, {seller_secret!r})
item = Item.objects.filter(is_active=True).order_by("sku").first()
set_stock(item_id=item.pk, stock=100, note="probe")
print(json.dumps({{
    "ids": {{key: str(user.pk) for key, user in made.items()}},
    "shopper": str(User.objects.get(email="shopper@example.com").pk),
    "item": str(item.pk),
    "category": item.category.slug,
    "currency": settings.SHOP_CURRENCY,
    "admin_path": settings.ADMIN_PATH,
    "require_2fa": settings.SHOP_REQUIRE_2FA,
    "lock_after": settings.LOGIN_FAILURE_LIMIT,
}}))
"""


def totp(secret: str) -> str:
    """The authenticator app's current 6-digit code (RFC 6238, SHA-1, 30 s), as allauth.mfa checks it."""
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def json(self) -> dict:
        try:
            data = json.loads(self.text)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {"_": data}

    def code(self) -> str:
        """The API's error code (`code`), else the start of its `detail`."""
        data = self.json()
        detail = data.get("detail")
        if isinstance(detail, dict):
            return str(detail.get("code", ""))
        return str(data.get("code") or str(detail or "").split(".")[0][:40])

    def csrf(self) -> str:
        found = CSRF_FIELD.search(self.text)
        return found.group(1) if found else ""


class Client:
    """One visitor: a source address on the loopback, a cookie jar, optionally a bearer token."""

    def __init__(self, site: Site, source: str = "127.0.0.1", cookie: str = "") -> None:
        parts = urlsplit(site.url)
        self.host, self.port, self.source = parts.hostname, parts.port, source
        self.cookies = dict(pair.split("=", 1) for pair in cookie.split("; ")) if cookie else {}
        self.token = ""

    def send(
        self,
        method: str,
        path: str,
        *,
        data: object = None,
        form: dict | None = None,
        body: bytes | None = None,
        headers: dict | None = None,
        token: str | None = None,
    ) -> Answer:
        sent = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if token is None:
            token = self.token
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if data is not None:
            body = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            sent.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60, source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        finally:
            conn.close()

    def post_form(self, page: str, form: dict) -> Answer:
        """GETs PAGE for its CSRF token (as a browser shows the form), then POSTs FORM with the token to it."""
        token = self.send("GET", page).csrf() or self.cookies.get("csrftoken", "")
        return self.send("POST", page, form={"csrfmiddlewaretoken": token, **form})

    def api_login(self, email: str, password: str, **extra) -> Answer:
        answer = self.send("POST", "/api/auth/login", data={"email": email, "password": password, **extra}, token="")
        if answer.status == 200:
            self.token = answer.json()["access"]
        return answer


class Probe:
    def __init__(self, site: Site, fake: FakeStripe, seed: dict, secrets_: dict[str, str]) -> None:
        self.site, self.fake, self.seed, self.secrets = site, fake, seed, secrets_
        self.results: list[tuple[str, bool | None]] = []

    def check(self, finding: str, sent: str, expected: str, got: str, ok: bool | None) -> bool:
        """One line: OK / FAIL (or COVERED for a finding left to the tests), finding, sent, expected, got."""
        label = {True: "OK", False: "FAIL", None: "COVERED"}[ok]
        print(f"{label:7} | {finding:5} | {sent} | expected: {expected} | got: {got}", flush=True)
        self.results.append((finding, ok))
        return bool(ok)

    def mails_to(self, address: str) -> list[str]:
        """The bodies (every text part, decoded) of the mails the worker has printed to the log for ADDRESS."""
        log = (self.site.workdir / "gunicorn.log").read_text(errors="replace")
        bodies = []
        for chunk in log.split("-" * 79):
            start = chunk.find("Content-Type:")
            mime = chunk.find("MIME-Version:")
            starts = [i for i in (start, mime) if i >= 0]
            if not starts:
                continue
            message = message_from_string(chunk[min(starts) :].lstrip())
            if address.lower() not in str(message.get("To", "")).lower():
                continue
            parts = [part for part in message.walk() if not part.is_multipart()]
            bodies.append(
                "\n".join((part.get_payload(decode=True) or b"").decode("utf-8", "replace") for part in parts)
            )
        return bodies

    def wait_for_mail(self, address: str, pattern: str, seconds: float = 20) -> re.Match | None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for body in self.mails_to(address):
                found = re.search(pattern, body)
                if found:
                    return found
            time.sleep(0.3)
        return None

    # -- the findings, in the order that keeps each address's rate limits apart ------------------------------------

    def hardening(self) -> None:
        """12: headers, /api/docs/, GET on a payment start (the signed-in Cache-Control checks come with 5/6)."""
        home = Client(self.site).send("GET", "/")
        csp = home.headers.get("content-security-policy", "")
        self.check(
            "12",
            "GET / (anonymous)",
            "Permissions-Policy set; CSP with base-uri and object-src",
            f"Permissions-Policy {'set' if home.headers.get('permissions-policy') else 'missing'}; CSP base-uri "
            f"{'set' if 'base-uri' in csp else 'missing'}, object-src {'set' if 'object-src' in csp else 'missing'}",
            bool(home.headers.get("permissions-policy")) and "base-uri" in csp and "object-src" in csp,
        )
        for path in ("/api/docs/", "/api/schema/"):
            answer = Client(self.site).send("GET", path)
            self.check(
                "12",
                f"GET {path} (anonymous)",
                "401/403/302, not public",
                str(answer.status),
                answer.status in (401, 403, 302),
            )

    def nested_json(self, paths: list[str], source: str) -> None:
        """7: `[` x 50,000 to API routes, unauthenticated."""
        client = Client(self.site, source=source)
        for path in paths:
            answer = client.send("POST", path, body=b"[" * 50_000)
            is_json = answer.headers.get("content-type", "").startswith("application/json")
            self.check(
                "7",
                f"POST {path} body '[' x 50,000 (no login)",
                "400 JSON (a 401/403/429 JSON refusal before parsing also safe), not 500",
                f"{answer.status} {answer.headers.get('content-type', '')} {answer.text[:70]!r}",
                answer.status in (400, 401, 403, 429) and is_json,
            )

    def jwt_revocation(self) -> None:
        """4: rotation, logout, revocation on a password change."""
        email = "probe-jwt@example.com"
        api = Client(self.site)
        login = api.api_login(email, PASSWORD)
        if not self.check(
            "4", f"POST /api/auth/login {email}", "200 with tokens", str(login.status), login.status == 200
        ):
            return
        first = login.json()["refresh"]
        rotated = api.send("POST", "/api/auth/refresh", data={"refresh": first}, token="")
        second = rotated.json().get("refresh", "")
        self.check(
            "4",
            "POST /api/auth/refresh (fresh refresh token)",
            "200 with a new refresh token",
            f"{rotated.status}, new token {'yes' if second and second != first else 'no'}",
            rotated.status == 200 and bool(second) and second != first,
        )
        again = api.send("POST", "/api/auth/refresh", data={"refresh": first}, token="")
        self.check(
            "4",
            "POST /api/auth/refresh (the same, already used, token again)",
            "401",
            str(again.status),
            again.status == 401,
        )
        out = api.send("POST", "/api/auth/logout", data={"refresh": second}, token="")
        self.check("4", "POST /api/auth/logout (current refresh token)", "200", str(out.status), out.status == 200)
        after = api.send("POST", "/api/auth/refresh", data={"refresh": second}, token="")
        self.check("4", "POST /api/auth/refresh (the logged-out token)", "401", str(after.status), after.status == 401)

        login = api.api_login(email, PASSWORD)
        refresh, access = login.json().get("refresh", ""), api.token
        user_path = f"/api/users/{self.seed['ids']['jwt']}"
        web = Client(self.site, cookie=self.site.session_cookie_for(email))
        changed = web.post_form(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )
        self.check(
            "4",
            "POST /accounts/password/change/ (web, signed in)",
            "302 (changed)",
            str(changed.status),
            changed.status == 302,
        )
        stale = api.send("POST", "/api/auth/refresh", data={"refresh": refresh}, token="")
        self.check(
            "4",
            "POST /api/auth/refresh (token issued before the password change)",
            "401",
            str(stale.status),
            stale.status == 401,
        )
        old_access = api.send("GET", user_path, token=access)
        self.check(
            "4",
            f"GET {user_path} with the access token issued before the change",
            "401",
            str(old_access.status),
            old_access.status == 401,
        )
        fresh = api.api_login(email, NEW_PASSWORD)
        self.check(
            "4", "POST /api/auth/login with the new password (control)", "200", str(fresh.status), fresh.status == 200
        )

    def email_change(self) -> Client | None:
        """3: the API's email change waits for the new address's confirmation; then the old address is retired."""
        old, new = "probe-email@example.com", f"probe-new-{secrets.token_hex(3)}@example.com"
        api = Client(self.site)
        if api.api_login(old, PASSWORD).status != 200:
            self.check("3", f"POST /api/auth/login {old}", "200", "refused", False)
            return None
        path = f"/api/users/{self.seed['ids']['email']}"
        stolen = api.send("PATCH", path, data={"email": new})  # a stolen token alone
        self.check(
            "3", f"PATCH {path} {{email}} without current_password", "400", str(stolen.status), stolen.status == 400
        )
        patch = api.send("PATCH", path, data={"email": new, "current_password": PASSWORD})
        self.check(
            "3", f"PATCH {path} {{email: {new}}}", "202 (pending confirmation)", str(patch.status), patch.status == 202
        )
        shown = api.send("GET", path).json().get("email")
        self.check("3", f"GET {path}", f"email still {old}", str(shown), shown == old)
        early = Client(self.site).api_login(new, PASSWORD)
        who = early.json().get("user") or {}
        self.check(
            "3",
            "POST /api/auth/login with the new, unconfirmed address (the account's password)",
            "401, or the same account with its email unchanged (allauth logs in by any address of the account)",
            f"{early.status}" + (f", user {who.get('id')} with email {who.get('email')}" if who else ""),
            early.status == 401 or (who.get("id") == self.seed["ids"]["email"] and who.get("email") == old),
        )
        link = self.wait_for_mail(new, r"/accounts/confirm-email/[^/\s]+/")
        if not self.check(
            "3", f"(mail) confirmation link to {new}", "mailed", "found" if link else "none in 20 s", link is not None
        ):
            return api
        confirmed = Client(self.site).post_form(link.group(0), {})
        self.check("3", "POST the confirmation link (no login)", "302", str(confirmed.status), confirmed.status == 302)
        retired = Client(self.site).api_login(old, PASSWORD)
        self.check(
            "3",
            "POST /api/auth/login with the old address after confirming",
            "401",
            str(retired.status),
            retired.status == 401,
        )
        browser = Client(self.site)
        browser.post_form("/accounts/password/reset/", {"email": old})
        browser.post_form("/accounts/password/reset/", {"email": new})
        working = self.wait_for_mail(new, r"/accounts/password/reset/key/\S+")
        time.sleep(1)  # both requests were queued together: the worker has had time for the first one too
        leaked = [body for body in self.mails_to(old) if "/password/reset/key/" in body]
        self.check(
            "3",
            "POST /accounts/password/reset/ for the old address, then for the new one",
            "no reset link mailed to the old address (the new one gets one)",
            f"old: {len(leaked)} reset link(s); new: {'link' if working else 'none'}",
            not leaked and working is not None,
        )
        api.api_login(new, PASSWORD)
        return api

    def payments(self) -> None:
        """5 and 6 (and the signed-in Cache-Control of 12): a shopper's order, paid while Stripe refuses the key."""
        api = Client(self.site)
        if api.api_login("shopper@example.com", "demo12345").status != 200:
            self.check("5", "POST /api/auth/login shopper@example.com", "200", "refused", False)
            return
        uid = self.seed["shopper"]
        api.send("POST", f"/api/carts/{uid}/add", data={"item": self.seed["item"], "quantity": 1})
        placed = api.send("POST", "/api/orders", data={})
        order = placed.json()
        if placed.status != 201:
            self.check("5", "POST /api/orders", "201", f"{placed.status} {placed.text[:100]}", False)
            return
        self.fake.fail_next(
            status=401,
            error_type="invalid_request_error",
            message=f"Invalid API Key provided: sk_test_****{STRIPE_KEY[-4:]}",
        )
        pay = api.send("POST", f"/api/orders/{order['id']}/pay")
        leaked = "sk_test" in pay.text or "Invalid API Key" in pay.text
        self.check(
            "5",
            f"POST /api/orders/{order['id']}/pay while Stripe answers 401 'Invalid API Key ... sk_test_****1234'",
            "502/503 with a generic message, no key, no Stripe text",
            f"{pay.status} {pay.json().get('message', pay.text[:80])!r}",
            pay.status in (502, 503) and not leaked,
        )
        pay = api.send("POST", f"/api/orders/{order['id']}/pay")
        sessions = list(self.fake.sessions)
        if pay.status != 200 or not sessions:
            self.check("6", "POST .../pay (Stripe answering again)", "200", f"{pay.status} {pay.text[:80]}", False)
            return
        asked = len(self.fake.requests_to("/v1/checkout/sessions", "GET"))
        for session_id in (f"pending:{order['id']}:1", sessions[-1]):
            page = Client(self.site).send("GET", f"/payments/success/?{urlencode({'session_id': session_id})}")
            named = order["number"] in page.text
            self.check(
                "6",
                f"GET /payments/success/?session_id={session_id[:24]}... (no login)",
                "200 neutral page, no order number",
                f"{page.status}, order number {'shown' if named else 'absent'}",
                page.status == 200 and not named,
            )
        calls = len(self.fake.requests_to("/v1/checkout/sessions", "GET")) - asked
        self.check("6", "(fake Stripe) lookups caused by those two pages", "0", str(calls), calls == 0)

        start = Client(self.site).send("GET", f"/payments/orders/{order['number']}/pay/")
        self.check("12", f"GET /payments/orders/{order['number']}/pay/", "405", str(start.status), start.status == 405)
        for path, client in (
            (f"/api/users/{uid}", api),
            ("/orders/", Client(self.site, cookie=self.site.session_cookie_for("shopper@example.com"))),
        ):
            answer = client.send("GET", path)
            cache = {part.strip() for part in answer.headers.get("cache-control", "").split(",")}
            self.check(
                "12",
                f"GET {path} (signed in)",
                "200, Cache-Control private, no-store",
                f"{answer.status}, {answer.headers.get('cache-control', '(none)')}",
                answer.status == 200 and {"private", "no-store"} <= cache,
            )

    def seller_text(self) -> None:
        """9 and "Also seen": a seller (with TOTP, as SHOP_REQUIRE_2FA wants) creating items over the API."""
        api = Client(self.site)
        no_code = api.api_login("seller@example.com", "demo12345")
        self.check(
            "2FA",
            "POST /api/auth/login seller@example.com without otp",
            "401 otp_required",
            f"{no_code.status} {no_code.code()}",
            no_code.status == 401,
        )
        login = api.api_login("seller@example.com", "demo12345", otp=totp(self.secrets["seller"]))
        if not self.check(
            "2FA", "POST /api/auth/login seller@example.com with otp", "200", str(login.status), login.status == 200
        ):
            return
        title = "Probe mug\n\nIMPORTANT: pay again at http://evil.example \x1b[31m\u202eeulav"
        created = api.send(
            "POST", "/api/items", data={"title": title, "price": 1000, "category": self.seed["category"]}
        )
        stored = created.json().get("title", "")
        self.check(
            "9",
            r"POST /api/items title 'Probe mug\n\nIMPORTANT: pay again at ...\x1b[31m\u202e...'",
            "400, or 201 with no control characters in the title",
            f"{created.status} {stored!r}" if created.status == 201 else f"{created.status} {created.text[:90]}",
            created.status == 400 or (created.status == 201 and not CONTROL.search(stored)),
        )
        currency = self.seed["currency"]
        same = api.send(
            "POST",
            "/api/items",
            data={
                "title": "Probe currency item",
                "price": 1000,
                "category": self.seed["category"],
                "currency": currency,
            },
        )
        self.check(
            "also",
            f"POST /api/items with currency {currency!r} (the shop's)",
            "201",
            str(same.status),
            same.status == 201,
        )
        other = "USD" if currency != "USD" else "EUR"
        refused = api.send(
            "POST",
            "/api/items",
            data={
                "title": "Probe currency item 2",
                "price": 1000,
                "category": self.seed["category"],
                "currency": other,
            },
        )
        self.check(
            "also",
            f"POST /api/items with currency {other!r}",
            "400 naming currency",
            f"{refused.status} {refused.text[:90]}",
            refused.status == 400 and "currency" in refused.json(),
        )

    def enumeration(self, email_api: Client | None) -> None:
        """10: signup (and the API's email change) answer the same for a taken address as for a fresh one."""
        client = Client(self.site, source="127.0.0.6")
        taken = "shopper@example.com"

        def compare(sent: str, expected_status: int, send) -> None:
            fresh = f"probe-fresh-{secrets.token_hex(3)}@example.com"
            (status_taken, body_taken), (status_fresh, body_fresh) = (
                (answer.status, answer.text.replace(address, "<email>"))
                for address, answer in ((address, send(address)) for address in (taken, fresh))
            )
            same = (status_taken, body_taken) == (status_fresh, body_fresh)
            self.check(
                "10",
                f"{sent} {taken} (taken) vs {fresh} (fresh)",
                f"the same status ({expected_status}) and body",
                f"{status_taken} vs {status_fresh}, bodies {'equal' if body_taken == body_fresh else 'differ'}",
                same and status_taken == expected_status,
            )

        compare(
            "POST /api/auth/signup",
            201,
            lambda address: client.send(
                "POST", "/api/auth/signup", data={"email": address, "password": PASSWORD}, token=""
            ),
        )
        if email_api is not None:
            path = f"/api/users/{self.seed['ids']['email']}"
            compare(
                f"PATCH {path} email",
                202,
                lambda address: email_api.send("PATCH", path, data={"email": address, "current_password": PASSWORD}),
            )

    def imports(self) -> None:
        """11: `manage.py import_items` on crafted files reports the bad rows and exits non-zero, no traceback."""
        category = self.seed["category"]
        row = {"description": "", "price": "1.00", "category": category}
        files = {
            "a 5,000-digit stock (JSON number)": "["
            + json.dumps({**row, "sku": "P-BIG", "title": "Big"})[:-1]
            + ', "stock": '
            + "9" * 5000
            + "}]",
            "a 5,000-digit stock (string), a NUL title": json.dumps(
                [
                    {**row, "sku": "P-BIG2", "title": "Big", "stock": "9" * 5000},
                    {**row, "sku": "P-NUL", "title": "Pan\u0000Lid", "stock": "1"},
                    {**row, "sku": "P-OK", "title": "Fine", "stock": "1"},
                ]
            ),
            "'[' x 50,000": "[" * 50_000,
        }
        for n, (what, text) in enumerate(files.items()):
            path = self.site.workdir / f"probe-import-{n}.json"
            path.write_text(text)
            result = subprocess.run(
                [PYTHON, "manage.py", "import_items", str(path), "--seller", "seller@example.com"],
                cwd=ROOT,
                env=self.site.env,
                capture_output=True,
                text=True,
            )
            output = (result.stderr + result.stdout).strip()
            last = [line for line in output.splitlines() if line.strip()]
            traceback = "Traceback" in output
            reported = [
                line for line in last if "line" in line.lower() or "nested" in line.lower() or "row" in line.lower()
            ]
            self.check(
                "11",
                f"manage.py import_items <file with {what}>",
                "exit != 0, the bad rows reported, no traceback",
                f"exit {result.returncode}, {'TRACEBACK' if traceback else 'no traceback'}: "
                + " / ".join(line[:70] for line in reported[-3:]),
                result.returncode != 0 and not traceback and bool(reported),
            )
        imported = self.site.python(
            "from catalog.models import Item; print(Item.objects.filter(sku__startswith='P-').count())"
        ).splitlines()[-1]
        self.check("11", "(database) items with the crafted SKUs", "0", imported, imported == "0")

    def admin_two_factor(self) -> None:
        """2FA controls: staff with TOTP reach the admin only after the code; staff without are sent to set it up."""
        admin = self.seed["admin_path"]
        staff = Client(self.site)
        first = staff.post_form(
            f"/accounts/login/?next=/{admin}", {"login": "probe-staff@example.com", "password": PASSWORD}
        )
        code = staff.post_form("/accounts/2fa/authenticate/", {"code": totp(self.secrets["staff"])})
        inside = staff.send("GET", f"/{admin}")
        self.check(
            "2FA",
            "staff with TOTP: password, then the code, then GET the admin",
            "302 to /accounts/2fa/authenticate/, 302, 200",
            f"{first.status} {first.location}, {code.status}, {inside.status}",
            "/2fa/authenticate/" in first.location and inside.status == 200,
        )
        plain = Client(self.site)
        plain.post_form(f"/accounts/login/?next=/{admin}", {"login": "admin@example.com", "password": "demo12345"})
        sent = plain.send("GET", f"/{admin}")
        self.check(
            "2FA",
            "staff without TOTP: password, then GET the admin",
            "302 to /accounts/2fa/totp/activate/",
            f"{sent.status} {sent.location}",
            sent.status == 302 and "/2fa/totp/activate/" in sent.location,
        )

    def admin_brute_force(self) -> None:
        """2: the admin's login, 25 wrong passwords for the admin, then the right one; from 127.0.0.2."""
        admin = self.seed["admin_path"]
        client = Client(self.site, source="127.0.0.2")
        entry = client.send("GET", f"/{admin}login/?next=/{admin}")
        self.check(
            "2",
            f"GET /{admin}login/",
            "302 to the shop's login (/accounts/login/)",
            f"{entry.status} {entry.location}",
            entry.status == 302 and entry.location.startswith("/accounts/login/"),
        )
        token = client.send("GET", "/accounts/login/").csrf()
        statuses = Counter()
        for _ in range(25):
            answer = client.send(
                "POST",
                f"/{admin}login/",
                form={"csrfmiddlewaretoken": token, "username": "admin@example.com", "password": "wrong-guess"},
            )
            statuses[f"{answer.status} {urlsplit(answer.location).path}".strip()] += 1
        self.check(
            "2",
            f"POST /{admin}login/ x25 (username, wrong password; Django admin's form)",
            "never 200: redirected to /accounts/login/",
            ", ".join(f"{k} x{v}" for k, v in statuses.items()),
            all(key.startswith("302 /accounts/login/") for key in statuses),
        )
        outcomes = Counter()
        for _ in range(25):
            answer = client.post_form(
                f"/accounts/login/?next=/{admin}", {"login": "admin@example.com", "password": "wrong-guess"}
            )
            if answer.status == 200 and LOCKED_TEXT in answer.text:
                outcomes["200 locked"] += 1
            else:
                outcomes[str(answer.status)] += 1
        self.check(
            "2",
            "POST /accounts/login/?next=admin x25 (admin@example.com, wrong password)",
            f"200 form error, locked after {self.seed['lock_after']} (or 429); never 302",
            ", ".join(f"{k} x{v}" for k, v in outcomes.items()),
            outcomes["200 locked"] + outcomes["429"] >= 25 - self.seed["lock_after"] and not outcomes["302"],
        )
        right = client.post_form(
            f"/accounts/login/?next=/{admin}", {"login": "admin@example.com", "password": "demo12345"}
        )
        inside = client.send("GET", f"/{admin}")
        self.check(
            "2",
            "then the right password, then GET the admin",
            "login refused (locked); admin 302 to login",
            f"login {right.status}{' locked' if LOCKED_TEXT in right.text else ''} {right.location}; admin "
            f"{inside.status} {inside.location}",
            right.status != 302 and inside.status == 302 and "/2fa/" not in inside.location,
        )

    def api_brute_force(self) -> None:
        """1: 20 wrong API logins, 30 more each with a fresh X-Forwarded-For, then the right password."""
        victim = "probe-victim@example.com"
        client = Client(self.site, source="127.0.0.3")

        def attempt(password: str, forwarded: str = "") -> Answer:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            return client.send("POST", "/api/auth/login", data={"email": victim, "password": password}, headers=headers)

        first = Counter(f"{a.status} {a.code()}".strip() for a in (attempt("wrong-guess") for _ in range(20)))
        self.check(
            "1",
            f"POST /api/auth/login x20 ({victim}, wrong password)",
            f"401 x{self.seed['lock_after']}, then 429 (never 200)",
            ", ".join(f"{k} x{v}" for k, v in first.items()),
            not any(key.startswith("200") for key in first) and any(key.startswith("429") for key in first),
        )
        forged = Counter()
        for n in range(30):
            answer = attempt("wrong-guess", forwarded=f"203.0.113.{n + 1}")
            forged[f"{answer.status} {answer.code()}".strip()] += 1
        self.check(
            "1",
            "POST /api/auth/login x30, wrong password, a new X-Forwarded-For each",
            "429 x30 (no reset)",
            ", ".join(f"{k} x{v}" for k, v in forged.items()),
            set(k[:3] for k in forged) == {"429"},
        )
        right = attempt(PASSWORD, forwarded="198.51.100.7")
        self.check(
            "1",
            "then the right password (forged X-Forwarded-For)",
            "429, not 200",
            f"{right.status} {right.code()}",
            right.status == 429,
        )
        elsewhere = Client(self.site, source="127.0.0.4").send(
            "POST", "/api/auth/login", data={"email": victim, "password": PASSWORD}
        )
        self.check(
            "1",
            "the right password from another address (127.0.0.4)",
            "429 login_locked (per-account lock)",
            f"{elsewhere.status} {elsewhere.code()}",
            elsewhere.status == 429,
        )

    def uploads(self) -> None:
        self.check(
            "8",
            "admin image upload (GIF named x.pdf, 81-megapixel image)",
            "refused",
            "not replayed over HTTP (multipart admin form under a 2FA session): covered by "
            "tests/catalog/test_uploads.py",
            None,
        )


def main() -> int:
    secrets_ = {
        "staff": base64.b32encode(secrets.token_bytes(20)).decode(),
        "seller": base64.b32encode(secrets.token_bytes(20)).decode(),
    }
    started = time.monotonic()
    with FakeStripe() as fake:
        env = {"STRIPE_SECRET_KEY": STRIPE_KEY, "STRIPE_API_BASE": fake.base_url, "SHOP_REQUIRE_2FA": "1"}
        print(
            "Setup: scratch shop (production settings, SHOP_REQUIRE_2FA=1, Stripe -> the fake on "
            f"{fake.base_url}); load_demo --items 20 --orders 0 ...",
            flush=True,
        )
        with scratch_site(prepare=["load_demo", "--items", "20", "--orders", "0", "--force"], env=env) as site:
            seed = json.loads(
                site.python(
                    SEED.format(password=PASSWORD, **{f"{k}_secret": v for k, v in secrets_.items()})
                ).splitlines()[-1]
            )
            print(
                "Setup: accounts probe-{jwt,email,victim,staff}@example.com (staff with TOTP), TOTP for "
                f"seller@example.com; SHOP_REQUIRE_2FA={seed['require_2fa']}, lock after {seed['lock_after']} "
                f"failures, admin at /{seed['admin_path']}; serving {site.url} ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
            probe = Probe(site, fake, seed, secrets_)
            probe.hardening()
            probe.nested_json(["/api/auth/refresh", "/api/items", "/api/orders", "/api/carts/1/add"], "127.0.0.5")
            probe.jwt_revocation()
            email_api = probe.email_change()
            probe.payments()
            probe.seller_text()
            probe.enumeration(email_api)
            probe.imports()
            probe.uploads()
            probe.admin_two_factor()
            probe.nested_json(["/api/auth/login", "/api/auth/signup"], "127.0.0.7")
            probe.api_brute_force()
            probe.admin_brute_force()
            errors = [
                line
                for line in (site.workdir / "gunicorn.log").read_text(errors="replace").splitlines()
                if "Traceback" in line or "Internal Server Error" in line
            ]
            probe.check(
                "all", "(server log) the whole run", "no traceback, no 500", f"{len(errors)} line(s)", not errors
            )
    failed = [finding for finding, ok in probe.results if ok is False]
    passed = sum(1 for _, ok in probe.results if ok)
    print(
        f"\n{passed} OK, {len(failed)} FAIL, {sum(1 for _, ok in probe.results if ok is None)} covered by tests "
        f"({time.monotonic() - started:.0f} s)"
        + (f"; failing findings: {', '.join(dict.fromkeys(failed))}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
