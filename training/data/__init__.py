"""Training data: the real Auto MPG set (fuel) and procedural or plant-supplied defect images."""
