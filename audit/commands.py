from django.core.management.base import BaseCommand

from audit import context


class AuditedCommand(BaseCommand):
    """The base of the shop's management commands: every write they make is in the audit trail, by the command's
    name and the OS user who ran it."""

    def execute(self, *args, **options):
        name = self.__class__.__module__.rsplit(".", 1)[-1]
        with context.command(name):
            return super().execute(*args, **options)
