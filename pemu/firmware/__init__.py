"""Bundled firmware and the default guest (binaries with their licences and recipe)."""
