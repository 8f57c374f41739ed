"""The public face of scanlet.runtime: a tuple __all__ that names only importable objects."""

from __future__ import annotations

import scanlet.runtime as runtime
import scanlet.runtime.testing as testing


def test_all_is_a_tuple_of_importable_unique_names() -> None:
    for module in (runtime, testing):
        assert isinstance(module.__all__, tuple)
        assert len(set(module.__all__)) == len(module.__all__)
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_the_spec_names_are_exported() -> None:
    spec_names = {
        "Actor", "ActorRef", "ActorSystem", "Envelope", "MailboxStatistics",
        "ActorError", "ActorStopped", "MailboxFull", "AskTimeout", "ActorCrashed",
        "ActorNotFound", "Strategy", "Restart", "Backoff", "ChildSpec", "SupervisorSpec",
        "SupervisorRef", "EventBus", "SlowPolicy", "Subscription", "DeadLetter", "DeadLetters",
        "TraceContext", "current_trace", "use_trace", "add_trace_context",
    }  # fmt: skip
    assert spec_names <= set(runtime.__all__)
    assert {"running_system", "Probe", "BusProbe"} <= set(testing.__all__)
