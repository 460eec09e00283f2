from audit import context


class AuditContextMiddleware:
    """Makes the request the audit context of every write it causes (after AuthenticationMiddleware). Reads
    nothing: the user is looked up only when a write is recorded, so reading pages costs no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with context.using(context.for_request(request)):
            return self.get_response(request)
