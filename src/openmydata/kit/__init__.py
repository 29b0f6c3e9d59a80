"""Domain-free toolkit shared by every participant. Imports nothing else from openmydata."""
