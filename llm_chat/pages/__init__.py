"""Page assembly and guards."""
