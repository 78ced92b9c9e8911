"""Business actions: the only code that changes stored state.

Views, socket handlers and the webhook call these; each commits its own
transaction and then hands its event to app.realtime.broadcast.
"""
