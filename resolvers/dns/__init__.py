"""DNS root fields."""
