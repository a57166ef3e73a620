"""hailong: satisfaction surveys by QR code, and the rankings they produce."""

__version__ = "0.1.0"
