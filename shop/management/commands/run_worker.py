from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules

from shop.outbox import sweep
from shop.queue import HUEY
from shop.selectors import WORKER
from shop.services import record_heartbeat


class Command(BaseCommand):
    help = (
        "Runs the background worker: delivers the outbox (emails, gateway calls, cache retries) and runs the periodic "
        "jobs (expiring unpaid orders, checking stock, the heartbeat). Run one per host on the embedded queue; with "
        "QUEUE_URL=redis://... run as many as you like, on any machines."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="Threads taking tasks (default 2).")
        parser.add_argument(
            "--no-periodic",
            action="store_true",
            help="Leave the periodic jobs to another worker (run them on exactly one worker per queue).",
        )

    def handle(self, *args, workers: int, no_periodic: bool, **options):
        if HUEY.immediate:
            self.stderr.write("QUEUE_URL=immediate runs tasks in the web process: there is nothing to work on.")
            raise SystemExit(2)
        if workers < 1:
            self.stderr.write("--workers must be at least 1.")
            raise SystemExit(2)
        autodiscover_modules("tasks")
        record_heartbeat(name=WORKER)
        caught_up = sweep()
        if caught_up:
            self.stdout.write(f"Outbox at start: {caught_up}")
        consumer = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic)
        self.stdout.write(f"Worker running: {workers} threads on queue {HUEY.storage.__class__.__name__}.")
        consumer.run()
