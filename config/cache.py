"""Django's Redis cache, with one client per connection pool instead of one per operation."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    """Django builds a `redis.Redis` (and its table of ~170 response callbacks) for every cache call.

    That was a third of a webhook's time in the web process (the drain's wake flag is one `add` per webhook).
    A client is only a handle on its pool and is thread-safe, so one per pool is enough.
    """

    def __init__(self, servers, **options) -> None:
        super().__init__(servers, **options)
        self._clients: dict = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
