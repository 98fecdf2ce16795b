"""Shared helpers for the explainability course notebooks."""
