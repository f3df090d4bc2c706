"""Remembers v2 signature nonces so a captured request cannot be replayed inside its window.

The ``accessKeyNonces`` collection is the authority: its ``_id`` makes a second insert of the same
nonce fail; a TTL index removes old entries and ``expires`` is checked too, because the embedded
store has no TTL monitor. memcached (when configured) is shared by every worker and server and
answers a replay quickly (``add`` with ``noreply=False`` is atomic and says whether the key was
new), but it only ever *refuses*: a nonce memcached does not know may still have been seen while
memcached was down, was restarted or evicted the key, so a "new" answer is confirmed in the
database. An in-process store is never used: other workers would not see its nonces.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from core import Lib, Shared

log = logging.getLogger("mia.generic.nonces")


class NonceStore(Lib):
    identity = "generic-nonceStore"
    version = "1.0"

    def remember(self, scope: str, nonce: str, ttl_seconds: int) -> bool:
        """True if ``nonce`` is new for ``scope`` (a device id) and is now remembered; False on a replay."""
        digest = hashlib.sha256(f"{scope}\n{nonce}".encode()).hexdigest()
        if self._memcached_add(digest, ttl_seconds) is False:
            return False  # memcached has seen it: a replay, no database round trip needed
        return self._db_add(digest, ttl_seconds)

    @staticmethod
    def _memcached_add(digest: str, ttl_seconds: int) -> bool | None:
        try:
            from core.data.cache import CacheError, cache_backend
        except ImportError:  # the cache module is optional for this lib
            return None
        backend = cache_backend()
        if getattr(backend, "kind", "") != "memcached":
            return None
        try:
            return bool(backend.add(f"mia:nonce:{digest[:48]}", b"1", expire=int(ttl_seconds)))
        except CacheError as exc:
            log.warning("memcached unavailable for the nonce guard, using the database: %s", exc)
            return None

    @staticmethod
    def _db_add(digest: str, ttl_seconds: int) -> bool:
        from pymongo.errors import DuplicateKeyError

        collection = Shared.models("generic-nonce-model").collection()
        now = datetime.now(UTC)
        document = {"_id": digest, "created": now, "expires": now + timedelta(seconds=ttl_seconds)}
        try:
            collection.insert_one(document)
            return True
        except DuplicateKeyError:
            # Still there only because no TTL monitor removed it yet? Then it may be taken over.
            taken = collection.update_one({"_id": digest, "expires": {"$lte": now}},
                                          {"$set": {"created": now, "expires": document["expires"]}})
            return taken.modified_count == 1
