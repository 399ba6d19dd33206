"""Adapters: the outside world (databases, key stores, object stores) behind the domain's ports."""
