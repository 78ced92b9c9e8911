"""Every payload of the outside interface, declared once as a pydantic model.

One module per surface: `rest` (the REST API), `webhooks` (n8n's requests and
our answers), `socket` (Socket.IO events both ways), on the shared field types
and validators of `common`. The same models validate requests, shape responses
and events, and generate GET /api/openapi.json (`openapi`) and
GET /api/asyncapi.json (`asyncapi`). How to add an endpoint or an event:
docs/api.md.
"""
