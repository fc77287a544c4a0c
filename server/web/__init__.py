"""The web pages people use: server-rendered HTML that works without JavaScript."""
