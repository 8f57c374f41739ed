"""The public face of scanlet.runtime: a tuple __all__ that names only importable objects."""

from __future__ import annotations

from pathlib import Path

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


def test_the_runtime_imports_nothing_from_other_layers() -> None:
    package = Path(runtime.__file__).parent
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for layer in ("scanlet.actors", "scanlet.storage", "scanlet.http", "from .."):
            assert layer not in text, f"{source.name} imports {layer}"
