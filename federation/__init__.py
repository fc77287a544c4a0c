"""ActivityPub federation for Mecene: protocol only, nothing about money."""
