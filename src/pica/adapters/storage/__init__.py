"""Storage adapter: the `Store` port on SQLAlchemy Core, for SQLite (embedded) and PostgreSQL."""
