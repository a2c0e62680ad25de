"""The side-by-side benchmark of issue 7 (bash bench/run.sh); S1, the fan-out, is bench/fanout.py."""
