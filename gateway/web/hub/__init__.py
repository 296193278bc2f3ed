"""The hub administrator's console: organisations, moderation, deliveries, audit, keys."""
