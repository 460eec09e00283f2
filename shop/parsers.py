"""The API's request parser, in a module of its own: DRF imports it from the settings, before its views exist."""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 for a document nested too deeply for Python's decoder (`[` x 50,000),
    which would otherwise escape as a RecursionError: a 500 and a traceback per request."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - the document is nested too deeply.") from error
