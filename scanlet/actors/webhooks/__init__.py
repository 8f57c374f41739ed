"""Webhooks: endpoints, a durable outbox fed from the event log, signed supervised delivery."""
