"""Channels to WhatsApp: each turns its payloads into the same service calls."""
