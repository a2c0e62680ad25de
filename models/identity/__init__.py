"""Identity models: tenants, users, roles and sign-in sessions (accounts.py), and what sign-in
and access build on."""
