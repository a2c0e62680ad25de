"""Identity types: tenants and users (federation entities), sign-in, their inputs and payloads."""
