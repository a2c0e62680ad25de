"""Identity resolvers: sign-in, accounts, users and tenants."""
