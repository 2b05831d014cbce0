"""manage.py import_households FILE [--strict] [--dry-run] [--report PATH]: a household register into the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from server.registry.importing import ImportFileError, households_import


class Command(BaseCommand):
    help = (
        "导入住户登记表（CSV 或 XLSX；UTF-8 或 GBK；中文或英文列名），每行校验，错误写入报告。"
        "Import a household register (CSV or XLSX; UTF-8 or GBK; Chinese or English headers); every row is checked "
        "and problems go to a CSV report. See docs/import.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="登记表文件 register file (.csv, .xlsx)")
        parser.add_argument("--strict", action="store_true",
                            help="有任何错误行则不写入 write nothing if any row is bad")
        parser.add_argument("--dry-run", action="store_true",
                            help="只校验并显示将新建/更新的数量，不写入 check and count, write nothing")
        parser.add_argument("--report", dest="report_path",
                            help="报告路径 report path (default: var/import-reports/<name>-<time>-errors.csv)")
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条 no progress bar")

    def handle(self, *args, **options):
        try:
            result = households_import(
                path=options["file"], strict=options["strict"], dry_run=options["dry_run"],
                report_path=options["report_path"], progress=not options["no_progress"] and options["verbosity"] > 0,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in result.summary_lines():
            self.stdout.write(line)
        if result.strict and result.errors:
            raise CommandError(
                f"{len(result.errors)} 个错误，未写入任何数据；见报告 {len(result.errors)} problems, nothing written; "
                f"see {result.report_path}"
            )
