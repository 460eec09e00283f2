"""One path converter for primary keys: exactly the active backend's form, anything else is a 404."""

from django.conf import settings


class IntPkConverter:
    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)


class ObjectIdPkConverter(IntPkConverter):
    regex = "[0-9a-f]{24}"


PkConverter = ObjectIdPkConverter if settings.USE_MONGODB else IntPkConverter
