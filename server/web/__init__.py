"""The web pages people use: server-rendered HTML that works without JavaScript.

They call the same services as the API, never the API over HTTP. Imported by
`server.app`, and by `server.views` for the pages a browser gets at an actor's URL.
"""
