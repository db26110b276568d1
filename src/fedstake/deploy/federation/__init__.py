"""A task's roles as separate processes with their own keys, over Flower's Deployment Engine and a
JSON-RPC chain: trainers' and validators' nodes (`node`), the coordinator (`coordinator`), the
messages between them (`wire`, `courier`), and the local federation that starts them all (`launcher`)."""
