"""The session serializer: Django's JSON, writing ObjectIds (MongoDB primary keys) as their 24-hex strings.

allauth.mfa records which authenticator signed a user in, by primary key, in the session; on MongoDB that key is an
ObjectId, which plain JSON cannot write, so the second step of a 2FA login would fail there."""

import json

from bson import ObjectId
from django.core.signing import JSONSerializer as DjangoJSONSerializer


def _default(value):
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class JSONSerializer(DjangoJSONSerializer):
    def dumps(self, obj) -> bytes:
        return json.dumps(obj, separators=(",", ":"), default=_default).encode("latin-1")
