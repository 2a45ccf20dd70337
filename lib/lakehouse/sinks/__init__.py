"""Writers of Delta tables shared by streaming and batch jobs."""
