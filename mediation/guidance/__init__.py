"""Guidance before filing: the Q&A assistant, guided diagnosis, the cost estimator, similar cases."""
