"""Steps the browser tests share."""

import re

from django.core import mail

from tests.factories import PASSWORD


def admin_sign_in(visitor, email: str, password: str = PASSWORD) -> None:
    """Signs in from the admin's door, which hands over to the shop's login page (a second factor may follow)."""
    visitor.open("/admin/")
    visitor.page.get_by_label("Email").fill(email)
    visitor.page.get_by_label("Password").fill(password)
    visitor.page.get_by_role("button", name="Sign In").click()


def emailed_link(to: str, path: str) -> str:
    """The path of the link to `path...` in the last email sent to `to` that has one."""
    links = [re.search(rf"https?://[^/\s]+({re.escape(path)}\S+)", message.body) for message in mail.outbox
             if message.to == [to]]  # fmt: skip
    found = [link for link in links if link]
    assert found, f"no email to {to} with a link to {path}"
    return found[-1].group(1)
