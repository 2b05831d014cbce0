"""Run a queue-draining Celery task soon after a commit, without sending one message per request.

Without a broker (eager) the task runs at once, inline. With one, each app process sends the task at most once per
`delay` seconds (a cache flag) with a countdown of `delay`: a caller checks the flag only after its queue rows
committed, and the task the flag stands for starts at least `delay` after the flag was set, so it sees those rows.
A beat job per queue is the safety net for a lost message.
"""

from __future__ import annotations


def task_soon(task, *, key: str, delay: float = 1.0) -> None:
    from django.core.cache import cache

    if task.app.conf.task_always_eager:
        task.delay()
    elif cache.add(f"qiaomen:soon:{key}", 1, timeout=delay):
        task.apply_async(countdown=delay)
