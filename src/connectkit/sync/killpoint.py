"""TEST-ONLY crash points for the kill test (R3.8): never set this in production.

``CONNECTKIT_TEST_KILL_AT=<phase>:<n>`` makes the process SIGKILL itself the n-th time
(1-based) it reaches the named point, e.g. ``import:3`` (after the 3rd page is staged
and checkpointed), ``stage:2`` (inside the 2nd page's staging transaction, before it
commits), ``plan:1`` (inside the plan transaction), ``commit:2`` (inside the 2nd commit
batch, before it commits). When the variable is unset a check costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "CONNECTKIT_TEST_KILL_AT"
_seen: dict[str, int] = {}


def reached(phase: str) -> None:
    """Count one arrival at ``phase``; SIGKILL this process if the env var says so."""
    target = os.environ.get(ENV)
    if not target:
        return
    _seen[phase] = _seen.get(phase, 0) + 1
    name, _, count = target.partition(":")
    if name == phase and count.isdigit() and _seen[phase] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)
