"""Stream and moderation types, inputs and payloads."""
