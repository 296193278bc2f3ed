"""The case across agencies: assessment, the shared service plan, conferences, supervision.

See docs/casework.md for the model. Tables are in `models`; each concern has its own
service module (the only place that writes its tables) and router.
"""
