"""The studies driver's parts: study definitions, job planning and running, aggregation of
`gtl run` reports into CSV and Markdown, plots, and a numpy safetensors reader.

Entry point: scripts/study.py. Only the plots and the safetensors reader need numpy/matplotlib;
planning, running and the CSV/Markdown aggregation use the standard library alone.
"""
