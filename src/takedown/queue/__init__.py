"""Work notification: how a committed submission reaches a worker quickly.

The database row is the unit of work and its lease the acknowledgement, so a queue backend only
carries ids: losing a notification delays an item until the next poll, it never loses it.
`embedded` (in-process) is the default; `redis` (Redis Streams consumer groups) spreads work
over worker processes on many machines.
"""

from __future__ import annotations

from takedown.queue.base import WorkQueue, make_queue

__all__ = ["WorkQueue", "make_queue"]
