"""openmydata — an open implementation of Korea's MyData ecosystem."""

__version__ = "0.1.0"
