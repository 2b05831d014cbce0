"""Run a queue-draining Celery task soon after a commit, without sending one message per request.

Without a broker (eager) the task's body runs inline, at once. With one, each app process sends the task at most once
per `delay` seconds (a cache flag) with a countdown of `delay`: a caller checks the flag only after its queue rows
committed, and the task the flag stands for starts at least `delay` after the flag was set, so it sees those rows.
A beat job per queue is the safety net for a lost message.

The broker unreachable is such a lost message, not an error of the request: the rows wait in their queue table (they
are committed), the flag is dropped so the next request tries again, and the beat job or that next request drains
them once the broker is back (docs/faults.md). A push is not answered 500 for it after its visits were stored.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def task_soon(task, *, key: str, delay: float = 1.0) -> None:
    from django.core.cache import cache
    from kombu.exceptions import OperationalError as BrokerError

    if task.app.conf.task_always_eager:
        task()  # the task's body, inline: what an eager delay() runs, without its tracing (≈ 5 ms a call)
        return
    flag = f"qiaomen:soon:{key}"
    if cache.add(flag, 1, timeout=delay):
        try:
            task.apply_async(countdown=delay)
        except (BrokerError, OSError) as exc:
            cache.delete(flag)
            logger.warning("broker unreachable, %s left queued for later: %s", task.name, exc)


def task_send(task, *args, **kwargs) -> bool:
    """Send one task now (after a commit): eager → runs inline; broker unreachable → logged, False (the caller
    says what the user sees; the request that committed is not answered 500 for it)."""
    from kombu.exceptions import OperationalError as BrokerError

    if task.app.conf.task_always_eager:
        task(*args, **kwargs)  # inline (eager); exceptions propagate as with task_eager_propagates
        return True
    try:
        task.apply_async(args=args, kwargs=kwargs)
    except (BrokerError, OSError) as exc:
        logger.warning("broker unreachable, %s not sent: %s", task.name, exc)
        return False
    return True
