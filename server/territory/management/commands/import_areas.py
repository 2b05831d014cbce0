"""manage.py import_areas FILE --level LEVEL [--parent CODE] [--dry-run]: boundaries into the territory tree."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from server.territory.importers import Action, BoundaryImportError, ImportLevel, boundaries_import, report_lines


class Command(BaseCommand):
    help = (
        "导入边界：市、区县、乡镇街道、社区村、网格或派出所辖区（GeoJSON、Shapefile、GeoPackage 等，任意坐标系）。"
        "Import boundaries of cities, districts, townships, communities, grid cells or police-station jurisdictions "
        "from GeoJSON, Shapefile, GeoPackage or any file GDAL reads, in any CRS. See docs/import-areas.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="边界文件 boundary file")
        levels = ", ".join(level.value for level in ImportLevel)
        parser.add_argument("--level", required=True, metavar="LEVEL", help=f"层级 level: {levels}")
        parser.add_argument(
            "--parent", dest="parent_code", metavar="CODE", help="上级代码 parent code (features may override it)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只显示将做的修改，不写入 show the plan, write nothing"
        )
        parser.add_argument(
            "--layer", dest="layer_name", metavar="NAME", help="图层名（多图层文件） layer name, for multi-layer files"
        )
        parser.add_argument(
            "--encoding", metavar="ENC",
            help="属性文字编码，如 gbk attribute text encoding, e.g. gbk (default: UTF-8, else GB18030)",
        )

    def handle(self, *args, **options):
        try:
            report = boundaries_import(
                path=options["file"], level=options["level"], parent_code=options["parent_code"],
                dry_run=options["dry_run"], layer_name=options["layer_name"], encoding=options["encoding"],
            )
        except BoundaryImportError as exc:
            raise CommandError(str(exc)) from exc
        styles = {"warning": self.style.WARNING, "error": self.style.ERROR, "success": self.style.SUCCESS}
        for style, line in report_lines(report, verbose=options["verbosity"] >= 1):
            self.stdout.write(styles[style](line) if style else line)
        if not [f for f in report.features if f.action != Action.REJECTED]:
            raise CommandError("没有可导入的要素 no feature could be imported; 见上面的原因 see the reasons above")
