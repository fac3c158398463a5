"""REST + SSE routes and the OpenAI-compatible gateway: thin adapters over the services."""
