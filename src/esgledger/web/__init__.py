"""The web platform: FastAPI app, routes (pages and their /api twins), templates, static files."""
