"""Training, Qt-free: the engine (`engine.Trainer`), run folders (`run_folder.open_run`), the
config of a project's "training" section (`config`), and probes of a network's insides (`probes`)."""
