"""Fixed vocabularies of the queue: statuses, priority reasons, channels."""

from __future__ import annotations

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
DONE = "done"
NO_SHOW = "no_show"
CANCELLED = "cancelled"

STATUSES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED)
AT_COUNTER = (CALLED, SERVING)

# Groups served first under the site's priority policy (Vietnamese labels in server.messages).
PRIORITY_REASONS = ("elderly", "disabled", "pregnant", "young_child", "merit")

CHANNELS = ("kiosk", "online", "api")

STRICT = "strict"
INTERLEAVE = "interleave"
PRIORITY_POLICIES = (STRICT, INTERLEAVE)

FRONT = "front"
BACK = "back"
