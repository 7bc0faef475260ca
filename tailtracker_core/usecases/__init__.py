"""Use cases: plain functions of (dependencies, actor, input). They orchestrate; models decide."""
