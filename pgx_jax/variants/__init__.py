"""Variant effects: reference and alternative windows, and scoring them with trained models."""
