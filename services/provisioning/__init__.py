"""Provisioning: requests, their steps and life cycle, the workers and the cloud provider adapter."""
