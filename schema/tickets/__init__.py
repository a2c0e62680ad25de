"""Support ticket types, inputs and payloads."""
