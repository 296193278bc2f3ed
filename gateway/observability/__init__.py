"""Logs, request ids and metrics for every process of the hub."""
