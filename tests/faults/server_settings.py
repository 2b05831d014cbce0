"""Settings of the server subprocesses the fault tests start: the project's own, plus a test-only hook
(tests/faults/hooks.py, inert unless QIAOMEN_FAULT_HOLD is set) and a Celery queue of the test's own, so a worker
that CI runs for the rest of the suite never takes this test's tasks."""

import os

from server.settings import *  # noqa: F403
from server.settings import MIDDLEWARE

MIDDLEWARE = [*MIDDLEWARE, "tests.faults.hooks.FaultHoldMiddleware"]
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("QIAOMEN_FAULT_QUEUE") or "celery"
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # no pidbox queue left behind on the broker
