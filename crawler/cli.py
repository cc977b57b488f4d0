"""`python -m crawler`: the entry points for unattended use.

  run SPIDER [-a NAME=VALUE] [-s KEY=VALUE]   a scheduled, locked, incremental crawl (crawler.scheduled)
  worker SPIDER --frontier URL [--exit-when-idle S]  one of many workers sharing a Redis frontier (crawler.worker)
  reextract [--site S] [--since DATE]          re-run the extractors over archived WARC responses (crawler.reextract)
  sites [--format json]                        every site: its sources, its rule, its recorded pages (crawler.sitelist)
  demo [--database-url URL] [--folder DIR]     an offline crawl of the shipped archive into data/demo.db (crawler.demo)

Each subcommand module has configure_parser(parser) and main(args) -> exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

SUBCOMMANDS = {
    "run": ("crawler.scheduled", "run a crawl for cron: locked, incremental, with a summary and an exit code"),
    "worker": ("crawler.worker", "a crawl worker on a shared Redis frontier: any number, on any machines"),
    "reextract": ("crawler.reextract", "re-run the extractors over the archived raw responses (WARC), offline"),
    "sites": ("crawler.sitelist", "list every site: its sources, its rule (templates) and the years of its recorded pages"),
    "demo": ("crawler.demo", "an offline demo: replay the shipped archive into data/demo.db, then try the storage commands"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = modules[name] = importlib.import_module(module_name)
        module.configure_parser(commands.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return modules[args.command].main(args)
    except BrokenPipeError:  # `python -m crawler sites | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0
