"""outdial: outbound dialer and callback campaign engine."""

__version__ = "0.1.0"
