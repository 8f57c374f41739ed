"""Generic async actor runtime: actors, refs, bounded mailboxes, supervision, bus, shutdown.

Implementation lives in private modules; this is the public face. The runtime knows nothing
of the application that uses it (no names, metric prefixes or loggers of its own beyond
``__package__``), so it could be published on its own; tests/runtime holds its test suite.
"""

from ._actor import Actor
from ._bus import EventBus, SlowPolicy, Subscription
from ._deadletters import DeadLetter, DeadLetters
from ._errors import (
    ActorCrashed,
    ActorError,
    ActorNameTaken,
    ActorNotFound,
    ActorStopped,
    AskTimeout,
    MailboxFull,
    SupervisionFailed,
)
from ._mailbox import Envelope, MailboxStatistics
from ._metrics import LATENCY_BUCKETS, RuntimeCollector
from ._ref import ActorRef
from ._supervisor import (
    Backoff,
    ChildSpec,
    Restart,
    Strategy,
    SupervisorRef,
    SupervisorSpec,
)
from ._system import ActorSystem
from ._trace import TraceContext, add_trace_context, current_trace, use_trace
from ._types import ActorState, Asks, StopReason

__all__ = (
    "LATENCY_BUCKETS",
    "Actor",
    "ActorCrashed",
    "ActorError",
    "ActorNameTaken",
    "ActorNotFound",
    "ActorRef",
    "ActorState",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "Asks",
    "Backoff",
    "ChildSpec",
    "DeadLetter",
    "DeadLetters",
    "Envelope",
    "EventBus",
    "MailboxFull",
    "MailboxStatistics",
    "Restart",
    "RuntimeCollector",
    "SlowPolicy",
    "StopReason",
    "Strategy",
    "Subscription",
    "SupervisionFailed",
    "SupervisorRef",
    "SupervisorSpec",
    "TraceContext",
    "add_trace_context",
    "current_trace",
    "use_trace",
)
