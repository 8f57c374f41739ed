"""Logging, metrics and tracing set-up shared by every layer."""
