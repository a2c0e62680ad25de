"""DNS schema: types and inputs."""
