"""Remembers v2 signature nonces so a captured request cannot be replayed inside its window.

The ``accessKeyNonces`` collection is the only authority: its ``_id`` makes a second insert of
the same nonce fail, a TTL index removes old entries and ``expires`` is checked too, because the
embedded store has no TTL monitor. The collection lives in the database, so a nonce stays used
across restarts (the embedded store journals it, core.data.journal) and across workers and servers.
memcached is not asked: while a killed memcached waits for its retry, its client answers ``add``
with False, which looked like a replay and refused fresh nonces (a false 401 NonceReused for
seconds); a nonce guard must fail closed only on real reuse.
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
        return self._db_add(digest, ttl_seconds)

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
