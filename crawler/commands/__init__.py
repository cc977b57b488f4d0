"""Project commands (COMMANDS_MODULE): `crawl` with exit codes that say how a crawl ended."""
