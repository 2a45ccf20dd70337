"""What the jobs tell the people who run them: metrics (CloudWatch)."""
