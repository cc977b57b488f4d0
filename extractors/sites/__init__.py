"""One module per site, each defining RULE; the registry imports them all."""
