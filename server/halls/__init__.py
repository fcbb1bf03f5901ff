"""Bundled hall configurations."""
