"""Downloader middlewares, one per module: ban detection, WARC replay, WARC writing."""
