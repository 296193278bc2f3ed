"""Delivery: the outbox relay, Celery app and in-process dispatcher."""
