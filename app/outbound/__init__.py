"""Handing replies to n8n: the HTTP call and the sender loop that drives the outbox."""
