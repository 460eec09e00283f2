"""Single-line text: titles, names, SKUs and the like, which end up in plain-text emails, logs and admin lists.

One rule, applied wherever such text is stored (`SingleLineCharField` for model fields and forms, `clean_single_line`
for writers that bypass models, such as bulk imports):

- line breaks, tabs and other whitespace (including U+2028/U+2029 and NEL) become one space, and the ends are
  trimmed, so a value can never start a line of its own in an email or a log (`"Pan\\n\\nIMPORTANT: pay again"`);
- any other control character (NUL, ESC as in `"\\x1b[31m"`, DEL, the C1 range) and the bidirectional overrides,
  embeddings and isolates (U+202A-U+202E, U+2066-U+2069; "Trojan Source") are refused by validation with a message
  that names them; code paths that skip validation (bulk writes, the shell) drop them instead.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WHITESPACE_RUN = re.compile(r"\s+")  # str's \s: also \x1c-\x1f, \x85, U+2028, U+2029


def _forbidden(char: str) -> bool:
    return char in BIDI_CONTROLS or unicodedata.category(char) == "Cc"


def single_line(text: str) -> str:
    """`text` on one line: every run of whitespace (line breaks included) made one space, the ends trimmed."""
    return _WHITESPACE_RUN.sub(" ", text).strip()


def forbidden_characters(text: str) -> list[str]:
    """The control and bidirectional-control characters in `text`, each once, in order of appearance."""
    return list(dict.fromkeys(char for char in text if _forbidden(char)))


def clean_single_line(text: str) -> str:
    """`single_line(text)` without control or bidirectional-control characters: for writers that cannot refuse."""
    return single_line("".join(char for char in single_line(text) if not _forbidden(char)))


def describe(chars: list[str]) -> str:
    """'U+001B, U+202E (RIGHT-TO-LEFT OVERRIDE)': characters a person cannot see, named so they can find them."""
    return ", ".join(
        f"U+{ord(char):04X}" + (f" ({unicodedata.name(char)})" if unicodedata.name(char, "") else "") for char in chars
    )


@deconstructible
class SingleLineValidator:
    """Refuses text holding control or bidirectional-control characters (run after `single_line`)."""

    message = "Remove the invisible control characters from this text: %(characters)s."
    code = "control_characters"

    def __call__(self, value: object) -> None:
        chars = forbidden_characters(value) if isinstance(value, str) else []
        if chars:
            raise ValidationError(self.message, code=self.code, params={"characters": describe(chars)})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleLineValidator)

    def __hash__(self) -> int:
        return hash(SingleLineValidator)


validate_single_line = SingleLineValidator()


class SingleLineFormField(forms.CharField):
    """A form's CharField that puts the text on one line before validating it (and refuses control characters)."""

    default_validators = [validate_single_line]

    def to_python(self, value):
        value = super().to_python(value)
        return single_line(value) if isinstance(value, str) else value


class SingleLineCharField(models.CharField):
    """A CharField for one line of text (see the module's docstring).

    Validation (`full_clean()`, model and admin forms, the services behind the API) puts the value on one line and
    refuses control characters; `pre_save` cleans whatever arrives without validation (`bulk_create`, the shell,
    fixtures), so no save can store a line break or a control character.
    """

    default_validators = [validate_single_line]

    def to_python(self, value):
        value = super().to_python(value)
        return single_line(value) if isinstance(value, str) else value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = clean_single_line(value)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        if not self.choices:
            kwargs.setdefault("form_class", SingleLineFormField)
        return super().formfield(**kwargs)
