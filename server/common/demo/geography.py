"""Fixed facts of the synthetic Chuzhou: district boxes, real township names, the places the source names.

Codes of the city and its districts are the national ones (341100, 341102, …); 经开区 has no county code of its
own and gets 341171. District boxes sit roughly where the real districts are, do not overlap and stay inside
settings.QIAOMEN_CITY_BBOX. Township names are the real ones where we know them; community, street and company
names are invented. Nothing here is a real boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CITY_CODE = "341100"
CITY_NAME = "滁州市"
REFERENCE_YEAR = 2026  # ages and birth years are relative to this year, never to today

Box = tuple[float, float, float, float]  # lon0, lat0, lon1, lat1


@dataclass(frozen=True)
class District:
    code: str
    name: str
    box: Box
    population: int  # 万人, roughly the 2020 census; weights households and cells
    townships: tuple[str, ...]  # real names first; more are generated when the city is large
    streets: tuple[str, ...] = field(default=())


DISTRICTS: tuple[District, ...] = (
    District("341102", "琅琊区", (118.26, 32.25, 118.38, 32.35), 41,
             ("清流街道", "丰乐街道", "琅琊街道", "东门街道", "南门街道", "北门街道", "西涧街道", "扬子街道",
              "三里亭街道"),
             ("丰乐路", "琅琊路", "清流路", "醉翁路", "会峰路", "紫薇路", "花园路", "天长路", "南谯路", "遵阳路")),
    District("341103", "南谯区", (117.92, 32.20, 118.24, 32.50), 30,
             ("腰铺镇", "龙蟠街道", "大王街道", "乌衣镇", "沙河镇", "章广镇", "施集镇", "珠龙镇", "大柳镇", "黄泥岗镇"),
             ("龙蟠大道", "南谯北路", "腰铺路", "乌衣路", "世纪大道", "永阳路")),
    District("341171", "经开区", (118.39, 32.22, 118.50, 32.33), 12,
             ("城东街道", "长江街道", "花园街道"),
             ("苏滁大道", "长江路", "南京路", "徽州路", "泉州路", "九梓大道")),
    District("341122", "来安县", (118.26, 32.38, 118.62, 32.62), 37,
             ("新安镇", "汊河镇", "半塔镇", "水口镇", "大英镇", "雷官镇", "施官镇", "舜山镇", "三城镇", "独山乡",
              "张山乡", "杨郢乡"),
             ("新安大道", "建阳路", "永阳路", "广场路", "东大街")),
    District("341124", "全椒县", (118.00, 31.85, 118.55, 32.18), 38,
             ("襄河镇", "古河镇", "大墅镇", "二郎口镇", "武岗镇", "马厂镇", "石沛镇", "西王镇", "六镇镇", "十字镇"),
             ("儒林路", "杨桥路", "吴敬梓路", "襄河路", "太平路")),
    District("341181", "天长市", (118.72, 32.45, 119.28, 32.95), 60,
             ("天长街道", "千秋街道", "广陵街道", "秦栏镇", "铜城镇", "大通镇", "杨村镇", "石梁镇", "金集镇", "汊涧镇",
              "张铺镇", "永丰镇", "冶山镇", "仁和集镇", "郑集镇", "新街镇"),
             ("千秋大道", "广陵路", "天康大道", "仁和路", "建设路")),
    District("341182", "明光市", (117.80, 32.53, 118.25, 33.05), 50,
             ("明光街道", "明东街道", "明南街道", "明西街道", "张八岭镇", "三界镇", "桥头镇", "女山湖镇", "古沛镇",
              "涧溪镇", "潘村镇", "柳巷镇", "管店镇", "苏巷镇", "自来桥镇", "泊岗乡"),
             ("池河大道", "体育路", "嘉山路", "明珠路", "工农路")),
    District("341125", "定远县", (117.40, 32.25, 117.78, 32.72), 71,
             ("定城镇", "炉桥镇", "藕塘镇", "池河镇", "连江镇", "蒋集镇", "界牌集镇", "吴圩镇", "张桥镇", "永康镇",
              "西卅店镇", "桑涧镇", "朱湾镇", "大桥镇", "仓镇", "三和集镇", "二龙回族乡", "严桥乡", "拂晓乡", "范岗乡",
              "七里塘乡", "能仁乡"),
             ("曲阳路", "东城路", "定城路", "迎宾大道", "兴业路")),
    District("341126", "凤阳县", (117.25, 32.75, 117.78, 33.10), 63,
             ("府城镇", "临淮关镇", "武店镇", "西泉镇", "刘府镇", "大庙镇", "殷涧镇", "总铺镇", "红心镇", "板桥镇",
              "小溪河镇", "官塘镇", "枣巷镇", "黄湾乡"),
             ("凤阳大道", "府城路", "东华路", "中都大道", "钟楼路")),
)

# Communities the source names, with the number of grid cells each needs at least
# (向桥社区 holds the demo grid worker's 2–3 cells).
NAMED_COMMUNITIES: dict[str, tuple[tuple[str, int], ...]] = {
    "清流街道": (("向桥社区", 3), ("凤凰湖社区", 1)),
    "腰铺镇": (("梅铺社区", 1),),
}
NAMED_TOWNSHIPS: dict[str, tuple[str, ...]] = {
    "341102": ("清流街道", "丰乐街道"),
    "341103": ("腰铺镇",),
    "341126": ("府城镇",),
}
# Stations that cover exactly one named township; the others are named after the first township they cover.
NAMED_STATIONS: dict[str, str] = {"清流街道": "清流派出所", "丰乐街道": "丰乐派出所"}

DEMO_DISTRICT = "琅琊区"
DEMO_TOWNSHIP = "清流街道"
DEMO_COMMUNITY = "向桥社区"
DEMO_SECOND_COMMUNITY = "凤凰湖社区"
DEMO_STATION = "清流派出所"

# Generated community names: a first and a second character, typical of Anhui place names (郢, 圩, 岗, 集).
NAME_FIRST = tuple("东西南北新清丰龙凤花金翠紫桂松柏梅兰竹荷杨柳桃双三五七大小石山"
                   "塘桥岗庄湾明光华平安和康宁德仁福永长广兴乐瑞祥")
NAME_SECOND = tuple("山河湖塘桥岗集庄店湾圩郢岭峰泉溪园苑坊亭林门城洲港台营铺")
# Natural-village groups (自然村/村民组) used as rural street names: 王郢组, 张圩组 …
GROUP_SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙朱胡高何郭马")
GROUP_SUFFIXES = tuple("郢圩岗庄湾集店洼")

ENTERPRISE_BRANDS = ("华东", "皖东", "亭城", "醉翁", "琅琊", "滁江", "明湖", "丰源", "宏达", "鑫盛", "国泰", "天成",
                     "金禾", "永信", "博远", "恒瑞", "安康", "中科", "凯盛", "嘉禾", "瑞丰", "新桥", "汇通", "长河")
ENTERPRISE_TRADES = ("电子科技", "机械制造", "新材料", "食品", "家居", "汽车零部件", "光伏科技", "物流", "建材",
                     "纺织", "医药", "贸易", "电器", "包装", "农业发展", "精密模具", "智能装备", "化工")
