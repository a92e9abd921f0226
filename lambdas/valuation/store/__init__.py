"""Everything the service keeps in Redis (DESIGN section 7)."""

from .connection import get_redis, set_redis
from .requests import RequestStore

__all__ = ["RequestStore", "get_redis", "set_redis"]
