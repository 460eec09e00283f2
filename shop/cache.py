"""The default cache: diskcache's Django backend, shared through this host's disk by every worker and command."""

from diskcache import DjangoCache


class HostDiskCache(DjangoCache):
    """diskcache's backend with its SQLite connections kept open between requests.

    Django closes every cache at the end of each request (`close_caches` on `request_finished`): right for a socket
    pool, but here it meant reopening the cache's database files and re-reading their settings on every request,
    which cost more than the page read itself. diskcache reopens its connections by itself after a fork.
    """

    def close(self, **kwargs) -> None:
        pass
