"""Extraction benchmark: caixun vs plain trafilatura on the corpus, the fixtures and the ScrapingHub AEB set.

Run ``python -m benchmarks.run``; see benchmarks/README.md.
"""
