"""Entry points: thin `main(argv)` functions run by spark-submit, EMR steps, Airflow and console scripts."""
