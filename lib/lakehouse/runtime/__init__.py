"""What every entry point shares: common flags, config loading, logging and the run loop."""
