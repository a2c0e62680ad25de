"""Cart and order root fields."""
