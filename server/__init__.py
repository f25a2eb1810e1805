"""xephang server: app factory, queue engine, API, real-time, CLI."""
