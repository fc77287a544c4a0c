"""The bot actor Mastodon users talk to: linking an account by code, flattring by mention or by DM."""
