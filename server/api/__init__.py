"""The JSON API under /api/v1, for clients, the CLI's remote use and the web pages to come."""
