from role_kit import kit, reference, round_task, trainer_fields  # noqa: F401  (shared fixtures)
