"""Email through the outbox: `EMAIL_BACKEND` records each message in the database (in the sender's transaction, if
one is open) and the worker hands it to the real backend, `EMAIL_DELIVERY_BACKEND` (SMTP from `EMAIL_URL`, or the
console), retrying while the mail server is down. A request never waits on SMTP; a message is never lost.

Every email of the shop goes this way: ours (order confirmations) and allauth's (confirmations, password resets).
"""

import base64

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from shop.outbox import enqueue, handler

TOPIC = "mail.send"


class OutboxEmailBackend(BaseEmailBackend):
    """Records messages for the worker to send; "sending" succeeds as soon as they are recorded."""

    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            enqueue(TOPIC, message=message_to_dict(message))
        return len(email_messages)


def message_to_dict(message: EmailMessage) -> dict:
    """The message as JSON; attachments given as (name, content, mimetype) are kept, base64 for bytes."""
    attachments = []
    for attachment in message.attachments:
        if not isinstance(attachment, tuple):
            raise ValueError("MIME attachments cannot go through the outbox; attach (name, content, mimetype)")
        name, content, mimetype = attachment
        if isinstance(content, bytes):
            attachments.append([name, base64.b64encode(content).decode(), mimetype, "base64"])
        else:
            attachments.append([name, content, mimetype, "text"])
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [list(alternative) for alternative in getattr(message, "alternatives", [])],
        "attachments": attachments,
    }


def message_from_dict(data: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    message.content_subtype = data["content_subtype"]
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    for name, content, mimetype, encoding in data["attachments"]:
        message.attach(name, base64.b64decode(content) if encoding == "base64" else content, mimetype)
    return message


@handler(TOPIC)
def deliver_email(payload: dict) -> None:
    """Sends one recorded message through the real backend; raises (to be retried) when it cannot."""
    connection = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
    if not connection.send_messages([message_from_dict(payload["message"])]):
        raise ConnectionError("the mail backend accepted no message")
