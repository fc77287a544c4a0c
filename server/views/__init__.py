"""HTTP handlers, thin: parse, call a service, answer."""
