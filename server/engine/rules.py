"""Fixed vocabularies of the queue: statuses, priority reasons, channels."""

from __future__ import annotations

WAITING = "waiting"
CALLED = "called"
SERVING = "serving"
DONE = "done"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
# A number taken from home, not yet checked in at the kiosk: outside the calling order.
REMOTE = "remote"

STATUSES = (WAITING, CALLED, SERVING, DONE, NO_SHOW, CANCELLED, REMOTE)
# A counter's own status.
OPEN, PAUSED = "open", "paused"
COUNTER_STATUSES = (OPEN, PAUSED)
AT_COUNTER = (CALLED, SERVING)

# Groups served first under the site's priority policy (Vietnamese labels in server.messages).
PRIORITY_REASONS = ("elderly", "disabled", "pregnant", "young_child", "merit")

# "remote": a number taken from the citizen's phone (``/s/<site>``), counted as its own channel.
REMOTE_CHANNEL = "remote"
CHANNELS = ("kiosk", "online", "api", REMOTE_CHANNEL)

# How a number from home joins the calling order (a site setting): when the citizen checks in
# at the kiosk, or at once, like any other ticket.
CHECK_IN = "check_in"
DIRECT = "direct"
ARRIVALS = (CHECK_IN, DIRECT)

STRICT = "strict"
INTERLEAVE = "interleave"
PRIORITY_POLICIES = (STRICT, INTERLEAVE)

FRONT = "front"
BACK = "back"

# What call-next does to the counter's ticket when it was called but never started (a site
# setting): the citizen did not come, or the ticket waits again at the front of its queue.
# Never "done": only a started ticket, or one finished by hand, counts as served.
UNSTARTED_NO_SHOW = NO_SHOW
UNSTARTED_REQUEUE = "requeue"
UNSTARTED_ON_NEXT = (UNSTARTED_NO_SHOW, UNSTARTED_REQUEUE)
