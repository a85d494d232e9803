"""Orchestration: the pipeline's steps (`pipeline`, `mailing`, `runs`), the scheduler and its slot
claims (`scheduler`, `slots`), the demo loader, the export and the web app's search state.
Each step owns its transactions; the rules live in the stages' services."""
