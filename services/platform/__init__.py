"""Platform operations: maintenance mode, announcements, feature flags, help links, client error reports."""
