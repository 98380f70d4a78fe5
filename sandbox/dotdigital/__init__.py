"""A local emulator of Dotdigital's public REST API (v2 and v3 contacts), held to its OpenAPI documents.

Start it with ``python -m sandbox.dotdigital --port P --state-dir D``; see README.md beside this file.
"""
