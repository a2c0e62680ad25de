"""Provisioning types, inputs and payloads."""
