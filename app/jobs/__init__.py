"""Orchestration: the pipeline's steps, the scheduler, slot claims. No business logic lives here."""
