"""Fixtures of the multi-instance tests."""

from tests.cluster.instances import cluster

__all__ = ("cluster",)
